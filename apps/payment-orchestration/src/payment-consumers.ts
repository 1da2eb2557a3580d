import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ACCESS_TOKEN_VERIFIER, AccessTokenVerifier, parseKeyGrants, parsePublicKeySet, StepUpKeysUnavailableError } from '@pay/auth';
import type { PurchaseRequested } from '@pay/contracts';
import { FundsPostedV1, FundsRejectedV1, FundsReservedV1, FundsReturnedV1, FundsVoidedV1, InvalidEventError, PurchaseRequestedV1 } from '@pay/contracts';
import type { BatchWork, ConsumedEvent, InboxConsumerOptions, InboxSubscription } from '@pay/messaging';
import { BatchedEventError, DependencyUnavailableError, InboxContext, PermanentEventError } from '@pay/messaging';
import type { Sql } from './database/sql';
import { isPaymentDomainError } from '@pay/payments-domain';
import type { PaymentOrchestrationConfig } from './config';
import type { PreparedRequest } from './initiate-payment/initiate-payment';
import { InitiatePayment, RequestDecisionError } from './initiate-payment/initiate-payment';
import { attestSenderOf, authenticateSender } from './initiate-payment/purchase-request-sender';
import { SenderAttestations } from './initiate-payment/sender-attestation';
import { SERVICE_CONFIG } from '@pay/platform';
import type { JWK } from 'jose';
import { toPurchaseRequest } from './initiate-payment/to-purchase-request';
import { WALLET_READ_MODEL_APPLIERS } from './track-wallets/apply-wallet-event';
import { TransferFunds } from './transfer-funds/transfer-funds';

/** The Kafka door of intake: `@EventPattern(type, { subscription: PURCHASE_REQUESTS })`. */
export const PURCHASE_REQUESTS = 'purchase-requests';
/** The wallet's events (its read model, answers to funds commands): `@EventPattern(type, { subscription: WALLET_EVENTS })`. */
export const WALLET_EVENTS = 'wallet-events';

/** Orchestration's consumer groups (ServiceDefinition.consumers). */
export function paymentConsumers(config: PaymentOrchestrationConfig): InboxSubscription[] {
  const options = { partitionsConsumedConcurrently: 6 };
  const deadLetterHeaders = senderAttestationHeaders(config);
  return [
    {
      name: PURCHASE_REQUESTS,
      groupId: `${config.KAFKA_CONSUMER_GROUP_PREFIX}.purchase-requests`,
      topics: [config.PURCHASE_REQUESTS_TOPIC],
      options: { ...options, ...(deadLetterHeaders ? { deadLetterHeaders } : {}) },
    },
    { name: WALLET_EVENTS, groupId: `${config.KAFKA_CONSUMER_GROUP_PREFIX}.wallet-events`, topics: [config.WALLET_EVENTS_TOPIC], options },
  ];
}

const attestationsByKey = new Map<string, Promise<SenderAttestations>>();

/** Orchestration's sender attestations, with its own key (none without SERVICE_TOKEN_SIGNING_JWK: nothing attested, no replay taken). */
function senderAttestationsOf(config: PaymentOrchestrationConfig): Promise<SenderAttestations> | undefined {
  const jwk = config.SERVICE_TOKEN_SIGNING_JWK;
  if (!jwk) return undefined;
  let attestations = attestationsByKey.get(jwk);
  if (!attestations) attestationsByKey.set(jwk, (attestations = SenderAttestations.create(JSON.parse(jwk) as JWK)));
  return attestations;
}

/**
 * A dead-lettered purchase request keeps its sender's identity, attested (never its token), so that
 * `npm run dlq:replay` can re-send it for that sender (purchase-request-sender.ts).
 */
function senderAttestationHeaders(config: PaymentOrchestrationConfig): InboxConsumerOptions['deadLetterHeaders'] {
  const attestations = senderAttestationsOf(config);
  if (!attestations) return undefined;
  // The same checks as the platform's verifier (platform.module.ts), for the dead-letter path.
  const verifier = new AccessTokenVerifier({
    jwks: config.AUTH_JWKS ? parsePublicKeySet(config.AUTH_JWKS, 'AUTH_JWKS') : undefined,
    jwksUrl: config.AUTH_JWKS_URL,
    keyGrants: config.AUTH_KEY_GRANTS ? parseKeyGrants(config.AUTH_KEY_GRANTS) : undefined,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
  });
  return async (message) => attestSenderOf(verifier, await attestations, message);
}

const FUNDS_ANSWERS = [FundsReservedV1.type, FundsRejectedV1.type, FundsPostedV1.type, FundsVoidedV1.type, FundsReturnedV1.type];

/**
 * Input no retry can fix becomes a dead letter at once (with the reason), not five slow retries.
 * The wallet's step-up keys out of reach is an outage, not the message's fault: the inbox retries
 * the message until the keys answer (its partition waits), never dead-letters it. PostgreSQL out
 * of reach is recognised by the inbox itself. Anything else rolls back and is retried, then
 * dead-lettered.
 */
async function classifyFailures(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    throw classified(error);
  }
}

function classified(error: unknown): unknown {
  if (isPaymentDomainError(error) || error instanceof InvalidEventError) return new PermanentEventError(error.message);
  if (error instanceof StepUpKeysUnavailableError) return new DependencyUnavailableError('wallet-step-up-keys', error.message, { cause: error });
  return error;
}

/**
 * The purchase requests of one inbox transaction, decided together before it commits
 * (InitiatePayment.decideAll: one claim statement per round, one statement creating the payments
 * accepted). A request whose decision fails fails alone (BatchedEventError): the inbox applies
 * the others again without it, and retries or dead-letters it by itself.
 */
class PurchaseRequestBatch implements BatchWork {
  private readonly requests: { eventId: string; prepared: PreparedRequest }[] = [];

  constructor(
    private readonly initiate: InitiatePayment,
    private readonly sql: Sql,
  ) {}

  add(eventId: string, prepared: PreparedRequest): void {
    this.requests.push({ eventId, prepared });
  }

  async beforeCommit(): Promise<void> {
    try {
      await this.initiate.decideAll(
        this.sql,
        this.requests.map((request) => request.prepared),
      );
    } catch (error) {
      if (error instanceof RequestDecisionError) throw new BatchedEventError(this.requests[error.at].eventId, classified(error.cause));
      throw error;
    }
  }
}

/** The key of a transaction's PurchaseRequestBatch (InboxBatch.work). */
const PURCHASE_REQUEST_BATCH = {};

/**
 * The Kafka door of intake (payments.purchase-requests.v1) and the wallet's events
 * (wallet.events.v1: the read model the checks use, and the answers to funds commands). Each
 * event is applied exactly once with its effect (the inbox), the offset committed after.
 */
@Controller()
export class PaymentConsumers {
  private readonly answers: ReturnType<TransferFunds['answerHandlers']>;

  constructor(
    @Inject(InitiatePayment) private readonly initiate: InitiatePayment,
    @Inject(TransferFunds) transfers: TransferFunds,
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier,
    @Inject(SERVICE_CONFIG) private readonly config: PaymentOrchestrationConfig,
  ) {
    this.answers = transfers.answerHandlers();
    // The patterns below are fixed when the class loads: a new answer type must be listed there too.
    const unlisted = Object.keys(this.answers).filter((type) => !FUNDS_ANSWERS.includes(type));
    if (unlisted.length > 0) throw new Error(`TransferFunds answers ${unlisted.join(', ')}, which PaymentConsumers does not subscribe to`);
  }

  @EventPattern(PurchaseRequestedV1.type, { subscription: PURCHASE_REQUESTS })
  purchaseRequested(@Payload() event: ConsumedEvent<PurchaseRequested>, @Ctx() context: InboxContext): Promise<void> {
    return classifyFailures(async () => {
      const data = event.envelope.data;
      // Who sent it (its token in the record's header), before anything is read or written.
      const sender = await authenticateSender(this.verifier, event, await senderAttestationsOf(this.config));
      const prepared = await this.initiate.prepare(toPurchaseRequest(data.requestId, data), {
        door: 'kafka',
        correlationId: event.envelope.correlationId,
        causationId: event.envelope.id,
        sender,
      });
      // Decided with the transaction's other requests, before it commits.
      context
        .getBatch()
        .work(PURCHASE_REQUEST_BATCH, () => new PurchaseRequestBatch(this.initiate, context.getSql()))
        .add(event.envelope.id, prepared);
    });
  }

  @EventPattern(Object.keys(WALLET_READ_MODEL_APPLIERS), { subscription: WALLET_EVENTS })
  walletChanged(@Payload() event: ConsumedEvent, @Ctx() context: InboxContext): Promise<void> {
    return classifyFailures(() => WALLET_READ_MODEL_APPLIERS[event.envelope.type](context.getSql(), event.envelope));
  }

  @EventPattern(FUNDS_ANSWERS, { subscription: WALLET_EVENTS })
  fundsAnswered(@Payload() event: ConsumedEvent, @Ctx() context: InboxContext): Promise<void> {
    return classifyFailures(() => this.answers[event.envelope.type](context.getSql(), event.envelope));
  }
}
