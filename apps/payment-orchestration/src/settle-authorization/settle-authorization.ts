import { createHash } from 'node:crypto';
import type { Money } from '@pay/contracts';
import { money, toMinorUnits } from '@pay/contracts';
import { retrying } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import type { DataSource } from 'typeorm';
import { pspIdempotencyKey } from '../authorize-and-capture/authorize-and-capture';
import { inTransaction } from '../database/sql';
import { applyPspNews } from '../payments/apply-psp-news';
import { idempotencyKeys } from '../payments/idempotency-keys';
import type { RequestOutcome } from '../payments/payment-request';
import { answeredBefore, refusedRequest } from '../payments/payment-request';
import type { PaymentEventStore } from '../payments/store/payment-event-store';
import { isLostAppendRace } from '../payments/store/payment-event-store';
import type { PaymentServiceProviders } from '../psp/payment-service-providers';
import type { PaymentServiceProvider, PspPayment, PspResult } from '../psp/psp.port';
import type { ClaimedStep, PaymentSteps, StepName } from '../run-payment-steps/payment-steps';
import type { StepResult } from '../run-payment-steps/payment-step-worker';
import { backoffMs } from '../run-payment-steps/payment-step-worker';

/** What the merchant decides about a manual authorisation: take (part of) the money, or release it. */
export type AuthorizationDecision = { readonly action: 'capture'; readonly amount?: Money } | { readonly action: 'void' };

export interface SettleAuthorizationRequest {
  readonly paymentId: string;
  /** The caller's Idempotency-Key. */
  readonly idempotencyKey: string;
  readonly decision: AuthorizationDecision;
  /** `service:<id>` or `operator:<id>`, for the log. */
  readonly actor: string;
}

export interface SettlementAccepted {
  readonly paymentId: string;
  readonly action: 'capture' | 'void';
  readonly status: 'pending';
  /** What is captured, or what is released. */
  readonly amount: Money;
}

/** The steps that carry a decision out: `capture:<minor units>` and `void`. */
export const captureStep = (amount: bigint): StepName => `capture:${amount}`;
export const VOID_STEP: StepName = 'void';
export const isSettlementStep = (step: string): boolean => step === VOID_STEP || step.startsWith('capture:');

/**
 * How long after its authorisation a manual payment is voided by reconciliation if the merchant
 * neither captured nor voided it: Stripe releases a card authorisation after 7 days, PayPal honours
 * one for 3; we release a little before the shorter of the two, so no hold outlives our record of it.
 */
export const AUTHORIZATION_WINDOW_MS = 3 * 24 * 60 * 60 * 1000 - 60 * 60 * 1000;

const MAX_REQUEST_ATTEMPTS = 5;

/**
 * Use case: a manual-capture payment (authorised now, PaymentInitiated.captureMethod `manual`)
 * is captured, in whole or part, or voided later by the merchant's backend. One decision per
 * authorisation: the request records it at once (a `capture:<amount>` or `void` step, in the
 * transaction that saves the Idempotency-Key), and the step asks the payment's PSP with the key
 * `<paymentId>:capture` or `<paymentId>:void`; the PSP's answer (or its webhook) appends Captured
 * (the wallet posts it like any capture) or Canceled (nothing was posted). Reconciliation voids an
 * authorisation left undecided past AUTHORIZATION_WINDOW_MS.
 */
export class SettleAuthorization {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PaymentEventStore,
    private readonly steps: PaymentSteps,
    private readonly providers: PaymentServiceProviders,
    private readonly logger: Logger,
  ) {}

  request(request: SettleAuthorizationRequest): Promise<RequestOutcome<SettlementAccepted>> {
    return retrying({ maxAttempts: MAX_REQUEST_ATTEMPTS, retryOn: isLostAppendRace }, () => this.requestOnce(request));
  }

  private async requestOnce(request: SettleAuthorizationRequest): Promise<RequestOutcome<SettlementAccepted>> {
    const { decision } = request;
    const scope = `authorization:${request.paymentId}`;
    const hash = createHash('sha256')
      .update(
        JSON.stringify([
          decision.action,
          decision.action === 'capture' ? (decision.amount?.amount ?? 'all') : '',
          decision.action === 'capture' ? (decision.amount?.currency ?? '') : '',
        ]),
      )
      .digest('hex');
    return inTransaction(this.dataSource, async (sql): Promise<RequestOutcome<SettlementAccepted>> => {
      const earlier = await answeredBefore<SettlementAccepted>(sql, { scope, key: request.idempotencyKey, requestHash: hash }, 'capture or void');
      if (earlier) return earlier;
      // Decisions about one payment take its row lock in turn: the second sees the first's step.
      const stored = await this.store.loadStored(request.paymentId, sql, true);
      if (!stored) return refusedRequest(404, 'PAYMENT_NOT_FOUND', 'no payment has this id');
      const state = stored.payment.state;
      if (state.captureMethod !== 'manual')
        return refusedRequest(409, 'CAPTURE_METHOD_AUTOMATIC', 'the payment was captured with its authorisation; refund it instead of voiding or capturing it');
      if (state.status !== 'authorized') {
        return refusedRequest(409, 'TRANSITION_NOT_ALLOWED', `the payment is ${state.status}; only an authorized payment is captured or voided`);
      }
      const pending = await sql.query<{ step: string }>("SELECT step FROM payment_steps WHERE payment_id = $1 AND (step = 'void' OR step LIKE 'capture:%')", [
        state.paymentId,
      ]);
      if (pending.length > 0) {
        const what = pending[0].step === VOID_STEP ? 'a void' : 'a capture';
        return refusedRequest(409, 'AUTHORIZATION_ALREADY_SETTLING', `${what} of this authorisation is under way; its outcome follows on payments.events.v1`);
      }
      let amount = state.authorizedAmount;
      if (decision.action === 'capture' && decision.amount !== undefined) {
        if (decision.amount.currency !== state.currency) return refusedRequest(422, 'CURRENCY_MISMATCH', `the payment is in ${state.currency}`);
        amount = toMinorUnits(decision.amount);
        if (amount <= 0n || amount > state.authorizedAmount) {
          return refusedRequest(
            422,
            'CAPTURE_EXCEEDS_AUTHORIZED',
            `capture from 1 to ${state.authorizedAmount} minor units of ${state.currency} (the authorised amount)`,
          );
        }
      }
      const body: SettlementAccepted = { paymentId: state.paymentId, action: decision.action, status: 'pending', amount: money(amount, state.currency) };
      await this.steps.schedule(sql, state.paymentId, decision.action === 'capture' ? captureStep(amount) : VOID_STEP);
      await idempotencyKeys.save(sql, {
        scope,
        key: request.idempotencyKey,
        requestHash: hash,
        resourceId: state.paymentId,
        responseStatus: 202,
        responseBody: body as unknown as Record<string, unknown>,
      });
      this.logger.info(
        { paymentId: state.paymentId, action: decision.action, amount: amount.toString(), actor: request.actor },
        'authorisation settlement requested',
      );
      return { outcome: 'accepted', status: 202, body, replayed: false };
    });
  }

  /** The `capture:<amount>` and `void` steps: ask the PSP holding the authorisation, apply its answer. */
  async run(step: ClaimedStep): Promise<StepResult> {
    const payment = await this.store.load(step.paymentId);
    // Decided meanwhile (a webhook, reconciliation): nothing left to do.
    const reference = payment?.state.reference;
    if (payment?.status !== 'authorized' || !reference) return { outcome: 'done' };
    const { state } = payment;
    const psp = state.provider === undefined ? undefined : this.providers.named(state.provider);
    if (!psp) {
      this.logger.error({ paymentId: state.paymentId, provider: state.provider }, 'no PSP adapter holds this authorisation; left to an operator');
      return { outcome: 'done' };
    }
    const result =
      step.step === VOID_STEP
        ? await psp.cancelPayment({ idempotencyKey: pspIdempotencyKey(state.paymentId, 'void'), pspPaymentId: reference, reason: 'requested_by_customer' })
        : await psp.capturePayment({
            idempotencyKey: pspIdempotencyKey(state.paymentId, 'capture'),
            pspPaymentId: reference,
            amount: money(BigInt(step.step.slice('capture:'.length)), state.currency),
          });
    return this.apply(step, state.paymentId, reference, psp, result);
  }

  /**
   * Voids an authorisation the merchant left undecided for too long (reconciliation), as the
   * merchant's void would: schedules the `void` step unless a decision is under way. True when scheduled.
   */
  async release(paymentId: string): Promise<boolean> {
    return inTransaction(this.dataSource, async (sql) => {
      const stored = await this.store.loadStored(paymentId, sql, true);
      if (stored?.payment.status !== 'authorized' || stored.payment.state.captureMethod !== 'manual') return false;
      const pending = await sql.query<{ step: string }>("SELECT step FROM payment_steps WHERE payment_id = $1 AND (step = 'void' OR step LIKE 'capture:%')", [
        paymentId,
      ]);
      if (pending.length > 0) return false;
      await this.steps.schedule(sql, paymentId, VOID_STEP);
      this.logger.warn({ paymentId }, 'manual authorisation left undecided past its window: voiding it');
      return true;
    });
  }

  private async apply(
    step: ClaimedStep,
    paymentId: string,
    reference: string,
    psp: PaymentServiceProvider,
    result: PspResult<PspPayment>,
  ): Promise<StepResult> {
    switch (result.outcome) {
      case 'succeeded':
        await this.observe(paymentId, result.value);
        return { outcome: 'done' };
      case 'retryable':
      case 'unknown':
        return {
          outcome: 'retry',
          afterMs: Math.max(result.outcome === 'retryable' ? (result.retryAfterMs ?? 0) : 0, backoffMs(step.attempts)),
          reason: result.reason,
        };
      case 'declined':
      case 'rejected': {
        // E.g. the authorisation expired at the provider: its own view of the payment says what became of it.
        this.logger.warn({ paymentId, step: step.step, code: result.code }, 'the PSP refused to settle the authorisation; applying its view of the payment');
        const truth = await psp.retrievePayment(reference);
        if (truth.outcome === 'succeeded') await this.observe(paymentId, truth.value);
        else return { outcome: 'retry', afterMs: backoffMs(step.attempts), reason: `retrieve after ${result.code}: ${truth.outcome}` };
        return { outcome: 'done' };
      }
      case 'idempotency_conflict':
        this.logger.error({ paymentId, step: step.step, reason: result.reason }, 'PSP idempotency conflict settling an authorisation; left to an operator');
        return { outcome: 'done' };
    }
  }

  private async observe(paymentId: string, answer: PspPayment): Promise<void> {
    const applied = await applyPspNews(this.store, paymentId, { about: 'payment', provider: answer.provider, observation: answer.observation });
    if (applied.outcome === 'conflict') this.logger.error({ paymentId, reason: applied.reason }, 'PSP answer contradicts the payment; left to reconciliation');
  }
}
