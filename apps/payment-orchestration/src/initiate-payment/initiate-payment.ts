import { randomUUID } from 'node:crypto';
import type { Context } from '@opentelemetry/api';
import { context } from '@opentelemetry/api';
import type { FundsCommandAttester, StepUpGrant, StepUpProofVerifier, StepUpThresholds } from '@pay/auth';
import { StepUpKeysUnavailableError } from '@pay/auth';
import type { Money } from '@pay/contracts';
import { createEvent, PaymentRejectedV1, ReserveFundsV1, toMinorUnits, Topics } from '@pay/contracts';
import { appendToOutbox } from '@pay/messaging';
import { refusedTake, returnTokensUpdate, sqlOfPool, takeToken, takeTokensUpsert } from '@pay/platform';
import type { Logger } from '@pay/observability';
import type { PaymentInitiated } from '@pay/payments-domain';
import type { RolloutSource } from '@pay/rollout';
import type { DataSource } from 'typeorm';
import type { PurchaseFacts } from '../check-purchase/check-purchase';
import type { CumulativeStepUpLimits } from '../check-purchase/cumulative-step-up';
import { cumulativeStepUpRefusal } from '../check-purchase/cumulative-step-up';
import { checkPurchase } from '../check-purchase/check-purchase';
import type { NonProfitRegistry } from '../check-purchase/non-profit-registry';
import type { PaymentLimits } from '../check-purchase/payment-limits';
import { PurchaseRefusal } from '../check-purchase/purchase-refusal';
import type { RequestOutcome } from '../payments/payment-request';
import type { PurchaseRequest } from '../check-purchase/purchase-request';
import { requestHash } from '../check-purchase/purchase-request';
import type { StepUpOutcome } from '../check-purchase/step-up-check';
import { checkStepUp } from '../check-purchase/step-up-check';
import type { NamedStatement, Sql } from '../database/sql';
import { inTransaction, queryNamed } from '../database/sql';
import type { IdempotencyRecord } from '../payments/idempotency-keys';
import { idempotencyKeys } from '../payments/idempotency-keys';
import type { PaymentEventStore, PlannedStart } from '../payments/store/payment-event-store';
import type { PaymentSteps } from '../run-payment-steps/payment-steps';
import { walletReadModel } from '../track-wallets/wallet-read-model';
import { fundsCommands } from '../transfer-funds/funds-commands';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ClaimRow {
  claimed: boolean;
  token_taken: boolean;
  counted: { payments: number; amount: string } | null;
  earlier: { request_hash: string; resource_id: string; response_status: number; response_body: Record<string, unknown> } | null;
  person_id: string | null;
  country: string | null;
  apps: string[] | null;
  preferred_method_id: string | null;
  method_id: string | null;
  method_person_id: string | null;
  removed: boolean | null;
}

/**
 * The claims of several requests, in one statement: for each ($2-$12, arrays, one element per
 * request), its idempotency record written with the answer it gets if accepted (the key is the
 * claim: a concurrent request with the same key waits on the unique index until this transaction
 * ends, then finds it taken); only when claimed, a token taken from the payer's bucket and the
 * payment counted against the payer's step-up allowance when it has no proof ($8) — both read the
 * claim, so it is made (and waited for) before they lock the payer's rows —; the key's earlier
 * record as it stood before the statement; and the payer and the method a purchase names, else
 * the preferred one ($11 the method's id, $12 whether to look it up). The requests of one
 * statement name each payer and each key at most once (roundsOf): an upsert touches a row once.
 * A request refused after its claim gives back what the statement took (RELEASE).
 */
const CLAIM: NamedStatement = {
  name: 'po_intake_claim',
  text: `WITH r AS (
           SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::boolean[], $9::text[], $10::bigint[], $11::uuid[], $12::boolean[])
             WITH ORDINALITY AS r(key, payer_id, request_hash, resource_id, answer, bucket, counts, currency, amount, method_id, look_up, n)),
         claim AS (
           INSERT INTO idempotency_keys (scope, key, request_hash, resource_id, response_status, response_body)
           SELECT $1, key, request_hash, resource_id, 202, answer FROM r ORDER BY n
           ON CONFLICT (scope, key) DO NOTHING RETURNING key),
         token AS (${takeTokensUpsert({ bucket: 'r.bucket', perMinute: '$13', now: '$14', count: '1', from: 'r JOIN claim USING (key)', returning: 'b.bucket' })}),
         counted AS (
           INSERT INTO step_up_allowances AS a (payer_id, currency, unconfirmed_payments, unconfirmed_amount)
           SELECT r.payer_id, r.currency, 1, r.amount FROM r JOIN claim USING (key) WHERE r.counts ORDER BY r.n
           ON CONFLICT (payer_id, currency) DO UPDATE
             SET unconfirmed_payments = a.unconfirmed_payments + 1, unconfirmed_amount = a.unconfirmed_amount + EXCLUDED.unconfirmed_amount, updated_at = now()
           RETURNING a.payer_id, a.currency, a.unconfirmed_payments AS payments, a.unconfirmed_amount::text AS amount)
         SELECT EXISTS (SELECT 1 FROM claim c WHERE c.key = r.key) AS claimed, EXISTS (SELECT 1 FROM token t WHERE t.bucket = r.bucket) AS token_taken,
                (SELECT json_build_object('payments', c.payments, 'amount', c.amount) FROM counted c WHERE c.payer_id = r.payer_id AND c.currency = r.currency) AS counted,
                (SELECT json_build_object('request_hash', k.request_hash, 'resource_id', k.resource_id, 'response_status', k.response_status, 'response_body', k.response_body)
                   FROM idempotency_keys k WHERE k.scope = $1 AND k.key = r.key) AS earlier,
                h.person_id, h.country, h.apps, h.preferred_method_id, m.method_id, m.person_id AS method_person_id, m.removed
           FROM r
           LEFT JOIN wallet_holders h ON h.person_id = r.payer_id
           LEFT JOIN wallet_methods m ON r.look_up AND m.method_id = COALESCE(r.method_id, h.preferred_method_id)
          ORDER BY r.n`,
};

/** Gives back what a claim took for a request it does not decide ($1 the claim's record, $4 the token, $7 the count). */
const RELEASE: NamedStatement = {
  name: 'po_intake_release',
  text: `WITH unclaimed AS (DELETE FROM idempotency_keys WHERE $1::boolean AND scope = $2 AND key = $3),
         untaken AS (${returnTokensUpdate({ bucket: '$6', perMinute: '$5', count: '1' })} AND $4::boolean),
         uncounted AS (
           UPDATE step_up_allowances SET unconfirmed_payments = unconfirmed_payments - 1, unconfirmed_amount = unconfirmed_amount - $9::bigint, updated_at = now()
            WHERE $7::boolean AND payer_id = $8 AND currency = $10)
         SELECT 1`,
};

/** What a request's claim took and found (see CLAIM). */
interface Claim {
  readonly claimed: boolean;
  readonly tokenTaken: boolean;
  /** The payer's payments and amount without a proof, this one counted. */
  readonly counted?: { readonly payments: number; readonly amount: bigint };
  readonly earlier?: IdempotencyRecord;
  readonly facts: PurchaseFacts;
}

/** The payer's bucket of new payments (both doors). */
const payerBucket = (request: PurchaseRequest): string => `payments:payer:${request.payerId}`;

function claimOf(row: ClaimRow, key: string): Omit<Claim, 'facts'> {
  return {
    claimed: row.claimed,
    tokenTaken: row.token_taken,
    ...(row.counted ? { counted: { payments: row.counted.payments, amount: BigInt(row.counted.amount) } } : {}),
    ...(row.earlier
      ? {
          earlier: {
            scope: PAYMENT_REQUEST_SCOPE,
            key,
            requestHash: row.earlier.request_hash,
            resourceId: row.earlier.resource_id,
            responseStatus: row.earlier.response_status,
            responseBody: row.earlier.response_body,
          },
        }
      : {}),
  };
}

/** A request made ready for its decision (InitiatePayment.prepare). */
export interface PreparedRequest {
  readonly request: PurchaseRequest;
  readonly origin: RequestOrigin;
  readonly stepUp: StepUpOutcome;
  /** The Kafka sender's bucket was empty: refused once claimed (a replay is still answered). */
  readonly appThrottle: PurchaseRefusal | undefined;
  readonly hash: string;
  /** The answer if accepted; its paymentId is the new payment's. */
  readonly answer: PaymentAccepted;
  readonly occurredAt: Date;
  /** The trace context the request arrived in: its writes (outbox rows, the first step) keep it. */
  readonly trace: Context;
}

/** The decision of one of several requests failed (`at`: its index); the caller's transaction must roll back. */
export class RequestDecisionError extends Error {
  override name = 'RequestDecisionError';

  constructor(
    readonly at: number,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/**
 * The requests in rounds that name each payer and each request id at most once, each request in
 * the round after the last one holding its payer or its id: a payer's requests (and a key's) are
 * decided in their order, one round after the other, as if one by one.
 */
export function roundsOf(prepared: readonly Pick<PreparedRequest, 'request'>[]): number[][] {
  const rounds: number[][] = [];
  const payers = new Map<string, number>();
  const keys = new Map<string, number>();
  for (const [at, { request }] of prepared.entries()) {
    const round = Math.max(payers.get(request.payerId) ?? -1, keys.get(request.requestId) ?? -1) + 1;
    (rounds[round] ??= []).push(at);
    payers.set(request.payerId, round);
    keys.set(request.requestId, round);
  }
  return rounds;
}

/** Both doors share one key space: a request id sent on Kafka and over HTTP is one request. */
export const PAYMENT_REQUEST_SCOPE = 'payment-request';

export interface InitiatePaymentSettings {
  readonly rollout: RolloutSource;
  readonly limits: PaymentLimits;
  readonly nonProfits: NonProfitRegistry;
  readonly stepUpThresholds: StepUpThresholds;
  readonly stepUpVerifier: StepUpProofVerifier;
  /** How much a payer may pay without a proof since the last one (cumulative step-up). */
  readonly cumulativeStepUp: CumulativeStepUpLimits;
  /** New payments a payer may ask for per minute, through either door (a token bucket; replays are free). */
  readonly paymentsPerPayerPerMinute: number;
  /** Purchase requests an app backend may send on Kafka per minute, new or replayed (a token bucket per sender: its token's subject). */
  readonly purchaseRequestsPerAppPerMinute: number;
  /** A transfer the wallet has not reserved within this is voided. */
  readonly fundsConfirmationTimeoutMs: number;
  /** How long the wallet holds a transfer's funds. */
  readonly fundsReservationTtlMs: number;
  /** Signs a transfer's ReserveFunds for the wallet (orchestration's key); without it the wallet refuses the command. */
  readonly fundsCommandAttester?: FundsCommandAttester;
  readonly now?: () => Date;
}

/**
 * Too many new payments for one payer over HTTP: nothing was decided or written (the transaction
 * rolls back), and the Idempotency-Key is still free; ask again after `retryAfterSeconds`.
 */
export class PaymentRateLimitedError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    readonly perMinute: number,
  ) {
    super(`too many new payments for this payer (at most ${perMinute} a minute): retry after ${retryAfterSeconds} seconds`);
    this.name = 'PaymentRateLimitedError';
  }
}

/** Where the request came from, for the envelopes' causation and correlation. */
export interface RequestOrigin {
  readonly door: 'kafka' | 'http';
  readonly correlationId?: string;
  /** The request's envelope id (Kafka). */
  readonly causationId?: string;
  /** Kafka: the authenticated app backend that sent it (`service:<subject>`, its token in the record's header). */
  readonly sender?: string;
}

/** The answer to a request, the same whichever door it came through (HTTP shows it as is). */
export interface PaymentAccepted {
  readonly paymentId: string;
  readonly requestId: string;
  readonly kind: string;
  readonly status: 'initiated';
  readonly amount: Money;
  readonly createdAt: string;
}

export type InitiateOutcome = RequestOutcome<PaymentAccepted, PurchaseRefusal>;

/**
 * Use case: a purchase, donation or transfer is requested, with one behaviour for both doors:
 * a request seen before gets its first answer again, a refused one has nothing written but its
 * rejection event (fixed, it may be sent again with the same id), and an accepted one commits
 * whole (`accept`). A proof that cannot be checked (the wallet's keys out of reach) is no refusal:
 * StepUpKeysUnavailableError is thrown, nothing is written, the id stays free (HTTP 503; Kafka:
 * the inbox retries the message until the keys answer).
 */
export class InitiatePayment {
  private readonly now: () => Date;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PaymentEventStore,
    private readonly steps: PaymentSteps,
    private readonly settings: InitiatePaymentSettings,
    private readonly logger: Logger,
  ) {
    this.now = settings.now ?? (() => new Date());
  }

  /** In its own transaction, or in the caller's (the Kafka door's inbox transaction). */
  async initiate(request: PurchaseRequest, origin: RequestOrigin, sql?: Sql): Promise<InitiateOutcome> {
    const prepared = await this.prepare(request, origin);
    try {
      const [outcome] = sql ? await this.decideAll(sql, [prepared]) : await inTransaction(this.dataSource, (tx) => this.decideAll(tx, [prepared]));
      return outcome;
    } catch (failure) {
      const error = failure instanceof RequestDecisionError ? failure.cause : failure;
      if (error instanceof StepUpKeysUnavailableError) {
        const fields = { requestId: request.requestId, door: origin.door };
        const message = "purchase request not decided: the wallet's step-up keys are unavailable; it is retried";
        // Kafka: retried until the keys answer; the inbox warns about the wait, at most once a minute.
        if (origin.door === 'http') this.logger.warn(fields, message);
        else this.logger.debug(fields, message);
      }
      throw error;
    }
  }

  /**
   * What a request's decision needs that takes no lock, done before any transaction holds one:
   * the proof's signature check (it may fetch the wallet's keys), the Kafka sender's token, the
   * new payment's id and answer, and the trace context its writes keep.
   */
  async prepare(request: PurchaseRequest, origin: RequestOrigin): Promise<PreparedRequest> {
    const stepUp = await checkStepUp(request, this.settings.stepUpThresholds, this.settings.stepUpVerifier);
    const appThrottle = origin.door === 'kafka' ? await this.takeSenderToken(request, origin) : undefined;
    const paymentId = randomUUID();
    const occurredAt = this.now();
    return {
      request,
      origin,
      stepUp,
      appThrottle,
      hash: requestHash(request),
      occurredAt,
      answer: {
        paymentId,
        requestId: request.requestId,
        kind: request.kind,
        status: 'initiated',
        amount: request.amount,
        createdAt: occurredAt.toISOString(),
      },
      trace: context.active(),
    };
  }

  /**
   * Decides prepared requests in the caller's transaction, in their order for each payer and each
   * request id: in rounds (roundsOf) whose requests name each payer and key once, each round
   * claimed by one statement; the purchases accepted are created together at the end by one more
   * (PaymentEventStore.startAll). A failure that belongs to one request is thrown as a
   * RequestDecisionError naming it (the transaction must roll back); any other fails them all.
   */
  async decideAll(sql: Sql, prepared: readonly PreparedRequest[]): Promise<InitiateOutcome[]> {
    const outcomes: InitiateOutcome[] = [];
    const starts: PlannedStart[] = [];
    for (const round of roundsOf(prepared)) {
      const claims = await this.claimRound(
        sql,
        round.map((at) => prepared[at]),
      );
      for (const [index, at] of round.entries()) {
        const item = prepared[at];
        try {
          const claim = item.request.kind === 'transfer' ? { ...claims[index], facts: await this.factsOf(sql, item.request) } : claims[index];
          outcomes[at] = await context.with(item.trace, () => this.conclude(sql, item, claim, starts));
        } catch (error) {
          throw new RequestDecisionError(at, error);
        }
      }
    }
    await this.store.startAll(sql, starts);
    for (const [at, outcome] of outcomes.entries()) {
      const { request, origin } = prepared[at];
      if (outcome.outcome === 'refused') {
        this.logger.info({ requestId: request.requestId, door: origin.door, code: outcome.refusal.code }, 'purchase request refused');
      } else if (!outcome.replayed) {
        this.logger.info({ requestId: request.requestId, paymentId: outcome.body.paymentId, door: origin.door, kind: request.kind }, 'payment initiated');
      }
    }
    return outcomes;
  }

  /** Tokens of a sender's bucket this replica took ahead, usable for a second. */
  private readonly senderTokensAhead = new Map<string, { left: number; until: number }>();

  /**
   * The Kafka door's bucket per sender (the app backend its token authenticates, never the app a
   * request names: one backend cannot spend another's allowance), in a statement of its own
   * (committed at once): taken inside the inbox transaction, its row would stay locked until that
   * commits and one sender's requests
   * on every partition would wait for each other. A replica takes a second's worth of tokens at
   * once and spends them here for at most that second (unspent ones are lost, so the limit only
   * tightens); near the limit, one at a time. A redelivered request takes another token.
   */
  private async takeSenderToken(request: PurchaseRequest, origin: RequestOrigin): Promise<PurchaseRefusal | undefined> {
    // The Kafka door authenticates every request's sender first (PaymentConsumers); none is a bug.
    if (!origin.sender) throw new Error('a purchase request from Kafka reached intake without its authenticated sender');
    const sender = origin.sender;
    const perMinute = this.settings.purchaseRequestsPerAppPerMinute;
    const now = this.now();
    const ahead = this.senderTokensAhead.get(sender);
    if (ahead && ahead.left > 0 && ahead.until > now.getTime()) {
      ahead.left -= 1;
      return undefined;
    }
    const sql = sqlOfPool(this.dataSource);
    const bucket = `purchase-requests:sender:${sender}`;
    const perSecond = Math.max(1, Math.floor(perMinute / 60));
    let count = perSecond;
    let taken = await takeToken(sql, bucket, perMinute, now, count);
    if (!taken.allowed && count > 1) {
      count = 1;
      taken = await takeToken(sql, bucket, perMinute, now, count);
    }
    if (taken.allowed) {
      this.senderTokensAhead.set(sender, { left: count - 1, until: now.getTime() + 1_000 });
      return undefined;
    }
    return new PurchaseRefusal(
      'RATE_LIMITED',
      `too many purchase requests from ${sender} (at most ${perMinute} a minute): send it again with the same request id after ${taken.retryAfterSeconds} seconds`,
    );
  }

  /** A request's decision after its claim (StepUpKeysUnavailableError: no decision, nothing may be written). */
  private async conclude(sql: Sql, prepared: PreparedRequest, claim: Claim, starts: PlannedStart[]): Promise<InitiateOutcome> {
    const { request, origin, stepUp, appThrottle, hash, answer, occurredAt } = prepared;
    const { paymentId } = answer;
    const perMinute = this.settings.paymentsPerPayerPerMinute;
    const release = (what: { claim: boolean; token: boolean; count: boolean }): Promise<unknown> =>
      queryNamed(sql, RELEASE, [
        what.claim && claim.claimed,
        PAYMENT_REQUEST_SCOPE,
        request.requestId,
        what.token && claim.tokenTaken,
        perMinute,
        payerBucket(request),
        what.count && claim.counted !== undefined,
        request.payerId,
        toMinorUnits(request.amount).toString(),
        request.amount.currency,
      ]);

    if (!claim.claimed) {
      // Seen before: its first answer again, free (an unclaimed request takes no token and is not counted).
      // Taken by a concurrent request while the claim waited: its record committed after the statement's snapshot.
      const earlier = claim.earlier ?? (await idempotencyKeys.find(sql, PAYMENT_REQUEST_SCOPE, request.requestId));
      if (!earlier) throw new Error(`request ${request.requestId}: its key was taken and no record of it was found; the request is retried`);
      if (earlier.requestHash === hash)
        return { outcome: 'accepted', status: earlier.responseStatus, body: earlier.responseBody as unknown as PaymentAccepted, replayed: true };
      return this.refuse(
        sql,
        request,
        origin,
        new PurchaseRefusal('IDEMPOTENCY_KEY_REUSED', 'this request id was used for another request; use a new id for a new request'),
      );
    }
    // From here a refusal frees the key again (the request may be sent again with the same id).
    // Refused only now, so that a replay of an accepted request is never answered "rejected".
    if (appThrottle) {
      await release({ claim: true, token: true, count: true });
      return this.refuse(sql, request, origin, appThrottle);
    }
    // A new request takes a token from the payer's bucket (a replay, above, is free), through
    // either door. Taken in this transaction: refused over HTTP, it throws and nothing is written;
    // on Kafka, the request is rejected (RATE_LIMITED) and may be sent again with the same id.
    if (!claim.tokenTaken) {
      const taken = await refusedTake(sql, payerBucket(request), perMinute, occurredAt);
      const retryAfterSeconds = taken.allowed ? 1 : taken.retryAfterSeconds;
      if (origin.door === 'http') throw new PaymentRateLimitedError(retryAfterSeconds, perMinute);
      await release({ claim: true, token: false, count: true });
      return this.refuse(
        sql,
        request,
        origin,
        new PurchaseRefusal(
          'RATE_LIMITED',
          `too many new payments for this payer (at most ${perMinute} a minute): send it again with the same request id after ${retryAfterSeconds} seconds`,
        ),
      );
    }

    const checked = checkPurchase(request, claim.facts, { rollout: this.settings.rollout.policy, limits: this.settings.limits });
    if (!checked.accepted) {
      await release({ claim: true, token: false, count: true });
      return this.refuse(sql, request, origin, checked.refusal);
    }
    // The proof could not be checked (the wallet's keys are out of reach): no answer yet. Thrown,
    // so the transaction rolls back with nothing written and the key stays free for the retry.
    if (stepUp.outcome === 'unavailable') throw stepUp.error;
    if (stepUp.outcome === 'refused') {
      await release({ claim: true, token: false, count: true });
      return this.refuse(sql, request, origin, stepUp.refusal);
    }
    const refusal = await this.stepUpAllowance(sql, request, paymentId, stepUp.grant, claim.counted);
    if (refusal) {
      await release({ claim: true, token: false, count: true });
      return this.refuse(sql, request, origin, refusal);
    }
    return this.accept(sql, request, origin, answer, occurredAt, checked.paymentMethodId, starts);
  }

  /**
   * The claims of a round's requests (CLAIM, one statement) and the facts a purchase's checks need;
   * a transfer's facts (the sender's and the recipient's wallets) are read after it (factsOf).
   */
  private async claimRound(sql: Sql, round: readonly PreparedRequest[]): Promise<Claim[]> {
    const lookUps = round.map(({ request }) => {
      // Method ids are UUIDs; anything else names no method (and must not reach a uuid column).
      const named = request.paymentMethodId;
      return request.kind !== 'transfer' && (named === undefined || UUID.test(named));
    });
    const rows = await queryNamed<ClaimRow>(sql, CLAIM, [
      PAYMENT_REQUEST_SCOPE,
      round.map(({ request }) => request.requestId),
      round.map(({ request }) => request.payerId),
      round.map(({ hash }) => hash),
      round.map(({ answer }) => answer.paymentId),
      round.map(({ answer }) => JSON.stringify(answer)),
      round.map(({ request }) => payerBucket(request)),
      // A payment without a proof counts against the payer's step-up allowance; one with a proof resets it (accept).
      round.map(({ stepUp }) => stepUp.outcome === 'passed' && !stepUp.grant),
      round.map(({ request }) => request.amount.currency),
      round.map(({ request }) => toMinorUnits(request.amount).toString()),
      round.map(({ request }, at) => (lookUps[at] ? (request.paymentMethodId ?? null) : null)),
      lookUps,
      this.settings.paymentsPerPayerPerMinute,
      this.now(),
    ]);
    return rows.map((row, at) => {
      const { request } = round[at];
      const facts: PurchaseFacts = {
        ...(row.person_id
          ? {
              payer: {
                personId: row.person_id,
                ...(row.country ? { country: row.country } : {}),
                apps: row.apps ?? [],
                ...(row.preferred_method_id ? { preferredMethodId: row.preferred_method_id } : {}),
              },
            }
          : {}),
        ...(row.method_id && row.method_person_id
          ? { method: { methodId: row.method_id, personId: row.method_person_id, removed: row.removed === true } }
          : {}),
        recipientHasWallet: false,
        nonProfitRegistered: request.kind === 'donation' && this.settings.nonProfits.isRegistered(request.counterparty.id),
      };
      return { ...claimOf(row, request.requestId), facts };
    });
  }

  /**
   * Cumulative step-up: a payment with a proof consumes it and resets the payer's allowance in its
   * currency; one without was counted by the claim, and is refused (STEP_UP_REQUIRED) when that
   * count exceeds the allowance. The allowance's row stays locked until this transaction ends, so
   * parallel payments of one payer are counted one after the other and cannot all slip under the
   * limit. Nothing gives the allowance back once accepted (a failed or refunded payment was still
   * paid without a proof).
   */
  private async stepUpAllowance(
    sql: Sql,
    request: PurchaseRequest,
    paymentId: string,
    grant: StepUpGrant | undefined,
    counted: Claim['counted'],
  ): Promise<PurchaseRefusal | undefined> {
    if (grant) {
      const consumed = await sql.query(
        'INSERT INTO step_up_proofs_used (proof_id, payment_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING proof_id',
        [grant.proofId, paymentId, grant.expiresAt.toISOString()],
      );
      if (consumed.length === 0)
        return new PurchaseRefusal('STEP_UP_PROOF_ALREADY_USED', 'this step-up proof was already used for another payment; confirm again');
      await sql.query(
        `INSERT INTO step_up_allowances (payer_id, currency) VALUES ($1, $2)
         ON CONFLICT (payer_id, currency) DO UPDATE SET unconfirmed_payments = 0, unconfirmed_amount = 0, updated_at = now()`,
        [request.payerId, request.amount.currency],
      );
      return undefined;
    }
    if (!counted) throw new Error(`payment ${paymentId}: a payment without a proof must have been counted by its claim`);
    const amount = toMinorUnits(request.amount);
    const before = { payments: counted.payments - 1, amount: counted.amount - amount };
    return cumulativeStepUpRefusal(before, amount, request.amount.currency, this.settings.cumulativeStepUp);
  }

  /**
   * PaymentInitiated and the step that moves the money (a card authorisation, or the wallet
   * reservation of a transfer) in one statement, beside the claim's idempotency record and the
   * consumed step-up proof, in the caller's transaction; the PSP is called after the commit, never inside it.
   */
  private async accept(
    sql: Sql,
    request: PurchaseRequest,
    origin: RequestOrigin,
    answer: PaymentAccepted,
    occurredAt: Date,
    paymentMethodId: string | undefined,
    starts: PlannedStart[],
  ): Promise<InitiateOutcome> {
    const { paymentId } = answer;
    const initiated: PaymentInitiated = {
      type: 'PaymentInitiated',
      paymentId,
      requestId: request.requestId,
      kind: request.kind,
      payerId: request.payerId,
      counterparty: { type: request.counterparty.type, id: request.counterparty.id },
      app: request.app,
      country: request.country,
      amount: toMinorUnits(request.amount),
      currency: request.amount.currency,
      // Automatic unless the merchant's backend asked to capture later (on shipment): then the PSP only authorises.
      captureMethod: request.captureMethod ?? 'automatic',
      ...(paymentMethodId ? { paymentMethodId } : {}),
      ...(request.merchantCategory ? { merchantCategory: request.merchantCategory } : {}),
    };
    const appending = {
      ...(origin.correlationId ? { correlationId: origin.correlationId } : {}),
      ...(origin.causationId ? { causationId: origin.causationId } : {}),
      occurredAt,
    };
    const accepted: InitiateOutcome = { outcome: 'accepted', status: 202, body: answer, replayed: false };
    // Anything but a transfer is authorised at once: created with the others the caller decides (startAll).
    if (request.kind !== 'transfer') {
      starts.push(this.store.planStart(initiated, { ...appending, firstStep: this.steps.scheduling(paymentId, 'authorize') }));
      return accepted;
    }
    // A transfer waits for the wallet's reservation.
    const firstStep = this.steps.scheduling(paymentId, 'confirm-funds', new Date(occurredAt.getTime() + this.settings.fundsConfirmationTimeoutMs));
    const appended = await this.store.appendWith(sql, paymentId, 0, [initiated], { ...appending, firstStep });
    await fundsCommands.send(
      sql,
      this.settings.fundsCommandAttester,
      paymentId,
      'reserve',
      ReserveFundsV1,
      {
        senderId: request.payerId,
        recipientId: request.counterparty.id,
        amount: request.amount,
        expiresAt: new Date(occurredAt.getTime() + this.settings.fundsReservationTtlMs).toISOString(),
      },
      { correlationId: appended.envelopes[0].correlationId, causationId: appended.envelopes[0].id },
    );
    return accepted;
  }

  private async factsOf(sql: Sql, request: PurchaseRequest): Promise<PurchaseFacts> {
    const payer = await walletReadModel.holder(sql, request.payerId);
    const methodId = request.paymentMethodId ?? payer?.preferredMethodId;
    const method = request.kind !== 'transfer' && methodId ? await walletReadModel.method(sql, methodId) : undefined;
    const recipient = request.kind === 'transfer' ? await walletReadModel.holder(sql, request.counterparty.id) : undefined;
    return {
      ...(payer ? { payer } : {}),
      ...(method ? { method } : {}),
      recipientHasWallet: recipient !== undefined,
      nonProfitRegistered: request.kind === 'donation' && this.settings.nonProfits.isRegistered(request.counterparty.id),
    };
  }

  /** A refusal is an outcome too: published for the app (and history), with nothing else written. */
  private async refuse(sql: Sql, request: PurchaseRequest, origin: RequestOrigin, refusal: PurchaseRefusal): Promise<InitiateOutcome> {
    const envelope = createEvent({
      definition: PaymentRejectedV1,
      source: 'payment-orchestration',
      // No payment exists: the request is the subject, so the app's answer is keyed like its request.
      subject: request.requestId,
      sequence: 1,
      data: {
        requestId: request.requestId,
        code: refusal.code,
        message: refusal.message,
        kind: request.kind,
        payerId: request.payerId,
        app: request.app,
        amount: request.amount,
      },
      ...(origin.correlationId ? { correlationId: origin.correlationId } : {}),
      ...(origin.causationId ? { causationId: origin.causationId } : {}),
    });
    await appendToOutbox(sql, [{ topic: Topics.paymentEvents, envelope }]);
    return { outcome: 'refused', refusal };
  }
}
