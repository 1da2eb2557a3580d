import { randomUUID } from 'node:crypto';
import type { StepUpGrant, StepUpProofVerifier, StepUpThresholds } from '@pay/auth';
import { StepUpKeysUnavailableError } from '@pay/auth';
import type { Money } from '@pay/contracts';
import { createEvent, PaymentRejectedV1, ReserveFundsV1, toMinorUnits, Topics } from '@pay/contracts';
import { appendToOutbox } from '@pay/messaging';
import { takeToken } from '@pay/platform';
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
import type { PurchaseRequest } from '../check-purchase/purchase-request';
import { requestHash } from '../check-purchase/purchase-request';
import type { StepUpOutcome } from '../check-purchase/step-up-check';
import { checkStepUp } from '../check-purchase/step-up-check';
import type { NamedStatement, Sql } from '../database/sql';
import { inTransaction, queryNamed } from '../database/sql';
import type { IdempotencyRecord } from '../payments/idempotency-keys';
import { idempotencyKeys } from '../payments/idempotency-keys';
import type { PaymentEventStore } from '../payments/store/payment-event-store';
import type { PaymentSteps } from '../run-payment-steps/payment-steps';
import { walletReadModel } from '../track-wallets/wallet-read-model';
import { fundsCommands } from '../transfer-funds/funds-commands';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface IntakeRow {
  earlier: { request_hash: string; resource_id: string; response_status: number; response_body: Record<string, unknown> } | null;
  person_id: string | null;
  country: string | null;
  apps: string[] | null;
  preferred_method_id: string | null;
  method_id: string | null;
  method_person_id: string | null;
  removed: boolean | null;
}

/** A purchase's earlier answer (idempotency), its payer and the method it names (else the preferred one), in one statement. */
/** Counts a payment without a proof against its payer's allowance; answers the counts after it. */
const COUNT_UNCONFIRMED: NamedStatement = {
  name: 'po_count_unconfirmed',
  text: `INSERT INTO step_up_allowances AS a (payer_id, currency, unconfirmed_payments, unconfirmed_amount) VALUES ($1, $2, 1, $3::bigint)
         ON CONFLICT (payer_id, currency) DO UPDATE
           SET unconfirmed_payments = a.unconfirmed_payments + 1, unconfirmed_amount = a.unconfirmed_amount + $3::bigint, updated_at = now()
         RETURNING a.unconfirmed_payments AS payments, a.unconfirmed_amount::text AS amount`,
};

const READ_AFTER_LOCK: NamedStatement = {
  name: 'po_intake_reads',
  text: `SELECT (SELECT json_build_object('request_hash', k.request_hash, 'resource_id', k.resource_id, 'response_status', k.response_status, 'response_body', k.response_body)
                   FROM idempotency_keys k WHERE k.scope = $1 AND k.key = $2) AS earlier,
                h.person_id, h.country, h.apps, h.preferred_method_id, m.method_id, m.person_id AS method_person_id, m.removed
           FROM (SELECT 1) AS one
           LEFT JOIN wallet_holders h ON h.person_id = $3
           LEFT JOIN wallet_methods m ON $5 AND m.method_id = COALESCE($4::uuid, h.preferred_method_id)`,
};

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
  /** Purchase requests an app may send on Kafka per minute, new or replayed (a token bucket per app named). */
  readonly purchaseRequestsPerAppPerMinute: number;
  /** A transfer the wallet has not reserved within this is voided. */
  readonly fundsConfirmationTimeoutMs: number;
  /** How long the wallet holds a transfer's funds. */
  readonly fundsReservationTtlMs: number;
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

export type InitiateOutcome =
  | { readonly outcome: 'accepted'; readonly status: number; readonly body: PaymentAccepted; readonly replayed: boolean }
  | { readonly outcome: 'refused'; readonly refusal: PurchaseRefusal };

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
    // The signature check may fetch the wallet's keys: done before any lock or transaction is held.
    const stepUp = await checkStepUp(request, this.settings.stepUpThresholds, this.settings.stepUpVerifier);
    const appThrottle = origin.door === 'kafka' ? await this.takeAppToken(request) : undefined;
    let outcome: InitiateOutcome;
    try {
      outcome = sql
        ? await this.decide(sql, request, origin, stepUp, appThrottle)
        : await inTransaction(this.dataSource, (tx) => this.decide(tx, request, origin, stepUp, appThrottle));
    } catch (error) {
      if (error instanceof StepUpKeysUnavailableError) {
        const fields = { requestId: request.requestId, door: origin.door };
        const message = "purchase request not decided: the wallet's step-up keys are unavailable; it is retried";
        // Kafka: retried until the keys answer; the inbox warns about the wait, at most once a minute.
        if (origin.door === 'http') this.logger.warn(fields, message);
        else this.logger.debug(fields, message);
      }
      throw error;
    }
    if (outcome.outcome === 'refused') {
      this.logger.info({ requestId: request.requestId, door: origin.door, code: outcome.refusal.code }, 'purchase request refused');
    } else if (!outcome.replayed) {
      this.logger.info({ requestId: request.requestId, paymentId: outcome.body.paymentId, door: origin.door, kind: request.kind }, 'payment initiated');
    }
    return outcome;
  }

  /** Tokens of an app's bucket this replica took ahead, usable for a second. */
  private readonly appTokensAhead = new Map<string, { left: number; until: number }>();

  /**
   * The Kafka door's per-app bucket, in a statement of its own (committed at once): taken inside
   * the inbox transaction, its row would stay locked until that commits and one app's requests
   * on every partition would wait for each other. A replica takes a second's worth of tokens at
   * once and spends them here for at most that second (unspent ones are lost, so the limit only
   * tightens); near the limit, one at a time. A redelivered request takes another token.
   */
  private async takeAppToken(request: PurchaseRequest): Promise<PurchaseRefusal | undefined> {
    const perMinute = this.settings.purchaseRequestsPerAppPerMinute;
    const now = this.now();
    const ahead = this.appTokensAhead.get(request.app);
    if (ahead && ahead.left > 0 && ahead.until > now.getTime()) {
      ahead.left -= 1;
      return undefined;
    }
    const sql: Sql = { query: (text, parameters) => this.dataSource.query(text, parameters as unknown[]) };
    const bucket = `purchase-requests:app:${request.app}`;
    const perSecond = Math.max(1, Math.floor(perMinute / 60));
    let count = perSecond;
    let taken = await takeToken(sql, bucket, perMinute, now, count);
    if (!taken.allowed && count > 1) {
      count = 1;
      taken = await takeToken(sql, bucket, perMinute, now, count);
    }
    if (taken.allowed) {
      this.appTokensAhead.set(request.app, { left: count - 1, until: now.getTime() + 1_000 });
      return undefined;
    }
    return new PurchaseRefusal(
      'RATE_LIMITED',
      `too many purchase requests from ${request.app} (at most ${perMinute} a minute): send it again with the same request id after ${taken.retryAfterSeconds} seconds`,
    );
  }

  private async decide(
    sql: Sql,
    request: PurchaseRequest,
    origin: RequestOrigin,
    stepUp: StepUpOutcome,
    appThrottle: PurchaseRefusal | undefined,
  ): Promise<InitiateOutcome> {
    const hash = requestHash(request);
    // Locked for the transaction: fifty concurrent duplicates make one payment.
    await idempotencyKeys.lock(sql, PAYMENT_REQUEST_SCOPE, request.requestId);
    // After the lock (its own statement: a statement's snapshot is taken before it waits), the
    // earlier answer and the wallet facts in one round trip.
    const { earlier, facts } = await this.readAfterLock(sql, request);
    if (earlier) {
      if (earlier.requestHash === hash)
        return { outcome: 'accepted', status: earlier.responseStatus, body: earlier.responseBody as unknown as PaymentAccepted, replayed: true };
      return this.refuse(
        sql,
        request,
        origin,
        new PurchaseRefusal('IDEMPOTENCY_KEY_REUSED', 'this request id was used for another request; use a new id for a new request'),
      );
    }
    // Refused only now, so that a replay of an accepted request is never answered "rejected".
    if (appThrottle) return this.refuse(sql, request, origin, appThrottle);
    // A new request takes a token from the payer's bucket (a replay, above, is free), through
    // either door. Taken in this transaction: refused over HTTP, it throws and nothing is written;
    // on Kafka, the request is rejected (RATE_LIMITED) and may be sent again with the same id.
    const perMinute = this.settings.paymentsPerPayerPerMinute;
    const taken = await takeToken(sql, `payments:payer:${request.payerId}`, perMinute, this.now());
    if (!taken.allowed) {
      if (origin.door === 'http') throw new PaymentRateLimitedError(taken.retryAfterSeconds, perMinute);
      return this.refuse(
        sql,
        request,
        origin,
        new PurchaseRefusal(
          'RATE_LIMITED',
          `too many new payments for this payer (at most ${perMinute} a minute): send it again with the same request id after ${taken.retryAfterSeconds} seconds`,
        ),
      );
    }

    const checked = checkPurchase(request, facts, { rollout: this.settings.rollout.policy, limits: this.settings.limits });
    if (!checked.accepted) return this.refuse(sql, request, origin, checked.refusal);
    // The proof could not be checked (the wallet's keys are out of reach): no answer yet. Thrown,
    // so the transaction rolls back with nothing written and the key stays free for the retry.
    if (stepUp.outcome === 'unavailable') throw stepUp.error;
    if (stepUp.outcome === 'refused') return this.refuse(sql, request, origin, stepUp.refusal);
    return this.accept(sql, request, origin, hash, checked.paymentMethodId, stepUp.grant);
  }

  /**
   * PaymentInitiated, the step that moves the money (a card authorisation, or the wallet
   * reservation of a transfer), the consumed step-up proof and the idempotency record, in the
   * caller's transaction; the PSP is called after the commit, never inside it.
   */
  private async accept(
    sql: Sql,
    request: PurchaseRequest,
    origin: RequestOrigin,
    hash: string,
    paymentMethodId: string | undefined,
    grant: StepUpGrant | undefined,
  ): Promise<InitiateOutcome> {
    const paymentId = randomUUID();
    if (grant) {
      const consumed = await sql.query(
        'INSERT INTO step_up_proofs_used (proof_id, payment_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING proof_id',
        [grant.proofId, paymentId, grant.expiresAt.toISOString()],
      );
      if (consumed.length === 0)
        return this.refuse(
          sql,
          request,
          origin,
          new PurchaseRefusal('STEP_UP_PROOF_ALREADY_USED', 'this step-up proof was already used for another payment; confirm again'),
        );
    }
    const unconfirmed = await this.countTowardsStepUp(sql, request, grant !== undefined);
    if (unconfirmed) return this.refuse(sql, request, origin, unconfirmed);

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
    const context = {
      ...(origin.correlationId ? { correlationId: origin.correlationId } : {}),
      ...(origin.causationId ? { causationId: origin.causationId } : {}),
    };
    const appended = await this.store.appendWith(sql, paymentId, 0, [initiated], context);
    const correlationId = appended.envelopes[0].correlationId;
    if (request.kind === 'transfer') {
      const now = this.now();
      await fundsCommands.send(
        sql,
        paymentId,
        'reserve',
        ReserveFundsV1,
        {
          senderId: request.payerId,
          recipientId: request.counterparty.id,
          amount: request.amount,
          expiresAt: new Date(now.getTime() + this.settings.fundsReservationTtlMs).toISOString(),
        },
        { correlationId, causationId: appended.envelopes[0].id },
      );
      await this.steps.schedule(sql, paymentId, 'confirm-funds', new Date(now.getTime() + this.settings.fundsConfirmationTimeoutMs));
    } else {
      await this.steps.schedule(sql, paymentId, 'authorize');
    }

    const body: PaymentAccepted = {
      paymentId,
      requestId: request.requestId,
      kind: request.kind,
      status: 'initiated',
      amount: request.amount,
      createdAt: appended.envelopes[0].occurredAt,
    };
    await idempotencyKeys.save(sql, {
      scope: PAYMENT_REQUEST_SCOPE,
      key: request.requestId,
      requestHash: hash,
      resourceId: paymentId,
      responseStatus: 202,
      responseBody: body as unknown as Record<string, unknown>,
    });
    return { outcome: 'accepted', status: 202, body, replayed: false };
  }

  /**
   * Cumulative step-up: a payment with a proof resets the payer's allowance in its currency; one
   * without counts against it, or is refused (STEP_UP_REQUIRED) when it would exceed it. The
   * allowance's row stays locked until this transaction ends, so parallel payments of one payer
   * are counted one after the other and cannot all slip under the limit. Nothing gives the
   * allowance back (a failed or refunded payment was still paid without a proof).
   */
  private async countTowardsStepUp(sql: Sql, request: PurchaseRequest, confirmed: boolean): Promise<PurchaseRefusal | undefined> {
    const { currency } = request.amount;
    const amount = toMinorUnits(request.amount);
    const key = [request.payerId, currency];
    if (confirmed) {
      await sql.query(
        `INSERT INTO step_up_allowances (payer_id, currency) VALUES ($1, $2)
         ON CONFLICT (payer_id, currency) DO UPDATE SET unconfirmed_payments = 0, unconfirmed_amount = 0, updated_at = now()`,
        key,
      );
      return undefined;
    }
    // Counted at once, in one statement that also locks the row: the common case (allowed) needs
    // no second round trip; a refusal takes the count back.
    const [counted] = await queryNamed<{ payments: number; amount: string }>(sql, COUNT_UNCONFIRMED, [...key, amount.toString()]);
    const before = { payments: counted.payments - 1, amount: BigInt(counted.amount) - amount };
    const refusal = cumulativeStepUpRefusal(before, amount, currency, this.settings.cumulativeStepUp);
    if (refusal) {
      await sql.query(
        `UPDATE step_up_allowances SET unconfirmed_payments = unconfirmed_payments - 1, unconfirmed_amount = unconfirmed_amount - $3::bigint
          WHERE payer_id = $1 AND currency = $2`,
        [...key, amount.toString()],
      );
      return refusal;
    }
    return undefined;
  }

  private async readAfterLock(sql: Sql, request: PurchaseRequest): Promise<{ earlier?: IdempotencyRecord; facts: PurchaseFacts }> {
    if (request.kind === 'transfer') {
      const earlier = await idempotencyKeys.find(sql, PAYMENT_REQUEST_SCOPE, request.requestId);
      return { ...(earlier ? { earlier } : {}), facts: await this.factsOf(sql, request) };
    }
    // Method ids are UUIDs; anything else names no method (and must not reach a uuid column).
    const named = request.paymentMethodId;
    const lookUp = named === undefined || UUID.test(named);
    const [row] = await queryNamed<IntakeRow>(sql, READ_AFTER_LOCK, [
      PAYMENT_REQUEST_SCOPE,
      request.requestId,
      request.payerId,
      lookUp ? (named ?? null) : null,
      lookUp,
    ]);
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
      ...(row.method_id && row.method_person_id ? { method: { methodId: row.method_id, personId: row.method_person_id, removed: row.removed === true } } : {}),
      recipientHasWallet: false,
      nonProfitRegistered: request.kind === 'donation' && this.settings.nonProfits.isRegistered(request.counterparty.id),
    };
    const earlier = row.earlier
      ? {
          scope: PAYMENT_REQUEST_SCOPE,
          key: request.requestId,
          requestHash: row.earlier.request_hash,
          resourceId: row.earlier.resource_id,
          responseStatus: row.earlier.response_status,
          responseBody: row.earlier.response_body,
        }
      : undefined;
    return { ...(earlier ? { earlier } : {}), facts };
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
