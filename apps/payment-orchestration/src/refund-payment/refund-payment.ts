import { createHash, randomUUID } from 'node:crypto';
import type { Money } from '@pay/contracts';
import { money, toMinorUnits } from '@pay/contracts';
import { retrying } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import type { RefundReason } from '@pay/payments-domain';
import { findRefund, isPaymentDomainError } from '@pay/payments-domain';
import type { DataSource } from 'typeorm';
import { inTransaction } from '../database/sql';
import { pspIdempotencyKey } from '../authorize-and-capture/authorize-and-capture';
import { applyPspNews } from '../payments/apply-psp-news';
import { idempotencyKeys } from '../payments/idempotency-keys';
import type { RequestOutcome } from '../payments/payment-request';
import { answeredBefore, refusedRequest } from '../payments/payment-request';
import type { PaymentEventStore } from '../payments/store/payment-event-store';
import { isLostAppendRace } from '../payments/store/payment-event-store';
import type { PaymentServiceProviders } from '../psp/payment-service-providers';
import type { PspRefund } from '../psp/psp.port';
import type { ClaimedStep, PaymentSteps, StepName } from '../run-payment-steps/payment-steps';
import type { TransferFunds } from '../transfer-funds/transfer-funds';
import type { SupportRefundBudget } from './support-refund-budget';
import { NO_SUPPORT_REFUND_BUDGET, spendSupportRefundBudget } from './support-refund-budget';
import { WALLET_PROVIDER } from '../transfer-funds/transfer-funds';
import type { StepResult } from '../run-payment-steps/payment-step-worker';
import { backoffMs } from '../run-payment-steps/payment-step-worker';

export interface RefundRequest {
  readonly paymentId: string;
  /** The caller's Idempotency-Key. */
  readonly idempotencyKey: string;
  /** Absent: whatever is still refundable. Its currency must be the payment's. */
  readonly amount?: Money;
  readonly reason?: Exclude<RefundReason, 'psp'>;
  /** `service:<id>` or `operator:<id>`, for the log. */
  readonly actor: string;
  /** For a support case: the agent it names. The refund then spends support's refund budget (per agent, and all agents'). */
  readonly supportAgentId?: string;
}

export interface RefundAccepted {
  readonly refundId: string;
  readonly paymentId: string;
  readonly status: 'pending';
  readonly amount: Money;
}

export const refundStep = (refundId: string): StepName => `refund:${refundId}`;

/** Attempts at a refund request that keeps losing the race for the payment's next version. */
const MAX_REQUEST_ATTEMPTS = 5;

const REFUSAL_STATUS: Readonly<Record<string, 409 | 422>> = {
  REFUND_EXCEEDS_CAPTURED: 422,
  INVALID_INPUT: 422,
  TRANSITION_NOT_ALLOWED: 409,
};

/**
 * Use case: refund all or part of a captured payment (several partial refunds, never more
 * than was captured). The request reserves its amount against the payment at once
 * (RefundRequested, so concurrent refunds cannot overspend it), then a step asks the PSP with the
 * key `<paymentId>:refund:<refundId>`; the refund settles (Refunded: the wallet reverses it in the
 * ledger) or fails (RefundFailed: the amount is refundable again) from the PSP's answer or webhook.
 * A transfer from wallet balance is refunded by the wallet instead: the request sends it a
 * ReturnFunds command (TransferFunds), whose answer settles or fails the refund.
 */
export class RefundPayment {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PaymentEventStore,
    private readonly steps: PaymentSteps,
    private readonly providers: PaymentServiceProviders,
    private readonly transfers: TransferFunds,
    private readonly logger: Logger,
    private readonly options: { readonly supportRefundBudget?: SupportRefundBudget; readonly now?: () => Date } = {},
  ) {}

  /**
   * Records a refund request, or answers as the first request with its key did. Requests of one
   * payment take its row lock in turn; a writer that does not lock (a PSP answer being applied)
   * may still take the version this request read: the request then runs again from a fresh read,
   * so the caller never sees the race.
   */
  request(request: RefundRequest): Promise<RequestOutcome<RefundAccepted>> {
    return retrying({ maxAttempts: MAX_REQUEST_ATTEMPTS, retryOn: isLostAppendRace }, () => this.requestOnce(request));
  }

  private async requestOnce(request: RefundRequest): Promise<RequestOutcome<RefundAccepted>> {
    const scope = `refund:${request.paymentId}`;
    const hash = createHash('sha256')
      .update(JSON.stringify([request.amount?.amount ?? 'rest', request.amount?.currency ?? '', request.reason ?? 'requested_by_customer']))
      .digest('hex');
    return inTransaction(this.dataSource, async (sql): Promise<RequestOutcome<RefundAccepted>> => {
      const earlier = await answeredBefore<RefundAccepted>(sql, { scope, key: request.idempotencyKey, requestHash: hash }, 'refund');
      if (earlier) return earlier;
      // Refund requests of one payment queue here rather than race for its next version (other
      // writers, such as a PSP answer being applied, do not lock: request() runs again if one wins).
      const stored = await this.store.loadStored(request.paymentId, sql, true);
      const payment = stored?.payment;
      if (!stored || !payment) return refusedRequest(404, 'PAYMENT_NOT_FOUND', 'no payment has this id');
      // Refunded through the PSP port of the provider holding it, or by the wallet for a transfer from balance.
      const heldByWallet = payment.state.provider === WALLET_PROVIDER;
      if (!heldByWallet && payment.state.provider !== undefined && this.providers.named(payment.state.provider) === undefined) {
        return refusedRequest(
          409,
          'REFUND_NOT_SUPPORTED',
          `payments held by ${payment.state.provider} are not refunded through this API; send a transfer back`,
        );
      }
      if (request.amount !== undefined && request.amount.currency !== payment.state.currency) {
        return refusedRequest(422, 'CURRENCY_MISMATCH', `the payment is in ${payment.state.currency}`);
      }
      const refundId = randomUUID();
      let event;
      try {
        event = payment.requestRefund({
          refundId,
          ...(request.amount === undefined ? {} : { amount: toMinorUnits(request.amount) }),
          reason: request.reason ?? 'requested_by_customer',
        });
      } catch (error) {
        if (!isPaymentDomainError(error)) throw error;
        return refusedRequest(REFUSAL_STATUS[error.code] ?? 409, error.code, error.message);
      }
      // A support refund spends support's budget here, after the replay check (a replay is free) and
      // the payment's own checks; beyond it, SupportRefundBudgetExceeded rolls everything back.
      if (request.supportAgentId !== undefined) {
        await spendSupportRefundBudget(
          sql,
          this.options.supportRefundBudget ?? NO_SUPPORT_REFUND_BUDGET,
          { agentId: request.supportAgentId, amount: event.amount, currency: payment.state.currency },
          this.options.now?.() ?? new Date(),
        );
      }
      const body: RefundAccepted = {
        refundId,
        paymentId: payment.id,
        status: 'pending',
        amount: money(event.amount, payment.state.currency),
      };
      await this.store.appendAfter(sql, payment.id, stored, [event], {
        onAppended: async (tx, appended) => {
          if (heldByWallet) {
            const last = appended.envelopes.at(-1);
            await this.transfers.requestReturn(tx, appended.payment.state, refundId, last ? { correlationId: last.correlationId, causationId: last.id } : {});
          } else {
            await this.steps.schedule(tx, payment.id, refundStep(refundId));
          }
          await idempotencyKeys.save(tx, {
            scope,
            key: request.idempotencyKey,
            requestHash: hash,
            resourceId: refundId,
            responseStatus: 202,
            responseBody: body as unknown as Record<string, unknown>,
          });
        },
      });
      this.logger.info({ paymentId: payment.id, refundId, amount: event.amount.toString(), actor: request.actor }, 'refund requested');
      return { outcome: 'accepted', status: 202, body, replayed: false };
    });
  }

  /** The `refund:<refundId>` step: ask the PSP, apply its answer. */
  async run(step: ClaimedStep): Promise<StepResult> {
    const refundId = step.step.slice('refund:'.length);
    const payment = await this.store.load(step.paymentId);
    const refund = payment ? findRefund(payment.state, refundId) : undefined;
    if (!payment || refund?.status !== 'pending' || !payment.state.reference) return { outcome: 'done' };
    const psp = payment.state.provider === undefined ? undefined : this.providers.named(payment.state.provider);
    if (!psp) return { outcome: 'done' };
    const result = await psp.refundPayment({
      idempotencyKey: pspIdempotencyKey(payment.id, `refund:${refundId}`),
      pspPaymentId: payment.state.reference,
      refundId,
      paymentId: payment.id,
      amount: money(refund.amount, payment.state.currency),
      ...(refund.reason === 'psp' ? {} : { reason: refund.reason }),
    });
    switch (result.outcome) {
      case 'succeeded':
        await this.observe(payment.id, refundId, result.value);
        return { outcome: 'done' };
      case 'declined':
      case 'rejected':
        await applyPspNews(this.store, payment.id, {
          about: 'refund',
          observation: { refundId, amount: refund.amount, status: 'failed', reason: safeCode(result.code) },
        });
        return { outcome: 'done' };
      case 'retryable':
      case 'unknown':
        return { outcome: 'retry', afterMs: backoffMs(step.attempts), reason: result.reason };
      case 'idempotency_conflict':
        this.logger.error({ paymentId: payment.id, refundId, reason: result.reason }, 'PSP idempotency conflict on a refund; left to an operator');
        return { outcome: 'done' };
    }
  }

  private async observe(paymentId: string, refundId: string, refund: PspRefund): Promise<void> {
    await inTransaction(this.dataSource, (sql) =>
      sql.query('INSERT INTO psp_refunds (provider, psp_refund_id, payment_id, refund_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
        refund.provider,
        refund.id,
        paymentId,
        refundId,
      ]),
    );
    // A pending refund settles later, by webhook or reconciliation.
    const applied = await applyPspNews(this.store, paymentId, { about: 'refund', observation: refund.observation });
    if (applied.outcome === 'conflict') this.logger.error({ paymentId, refundId, reason: applied.reason }, 'PSP refund answer contradicts the payment');
  }
}

function safeCode(value: string): string {
  return (
    value
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')
      .replace(/^[^a-z]+/, '')
      .slice(0, 64) || 'refund_failed'
  );
}
