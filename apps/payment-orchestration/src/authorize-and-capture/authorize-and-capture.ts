import { money } from '@pay/contracts';
import type { Logger } from '@pay/observability';
import type { PaymentState } from '@pay/payments-domain';
import { planPaymentObservation } from '@pay/payments-domain';
import type { DataSource } from 'typeorm';
import { inTransaction } from '../database/sql';
import type { PspNewsOutcome } from '../payments/apply-psp-news';
import { applyPspNews } from '../payments/apply-psp-news';
import type { PaymentEventStore, StoredPayment } from '../payments/store/payment-event-store';
import { PaymentVersionConflictError } from '../payments/store/payment-event-store';
import { recordPspReference } from '../payments/store/payment-row';
import type { PaymentServiceProviders } from '../psp/payment-service-providers';
import type { BankAccountDebit, PspPayment } from '../psp/psp.port';
import type { ClaimedStep, PaymentSteps } from '../run-payment-steps/payment-steps';
import type { StepResult } from '../run-payment-steps/payment-step-worker';
import { backoffMs } from '../run-payment-steps/payment-step-worker';
import type { PaymentInstrument, WalletInstruments } from './wallet-instruments';

/** The PSP's idempotency key of a payment's step: the same for every retry, by any process, ever. */
export function pspIdempotencyKey(paymentId: string, step: string): string {
  return `${paymentId}:${step}`;
}

/**
 * A saved bank account as the provider debits it: an IBAN by SEPA Direct Debit, a US account
 * (routing and account number) by ACH, under the mandate the payer accepted. Undefined without
 * one of them: no debit without an accepted mandate.
 */
export function bankAccountDebit(credentials: PaymentInstrument['credentials']): BankAccountDebit | undefined {
  const { iban, routingNumber, accountNumber, accountType, holderName, mandate: accepted } = credentials;
  if (!holderName || !accepted) return undefined;
  const mandate = { acceptedAt: new Date(accepted.acceptedAt), ipAddress: accepted.ipAddress, userAgent: accepted.userAgent };
  if (iban) return { scheme: 'sepa_debit', iban, holderName, mandate };
  if (routingNumber && accountNumber)
    return { scheme: 'us_bank_account', routingNumber, accountNumber, accountType: accountType ?? 'checking', holderName, mandate };
  return undefined;
}

/**
 * What the provider charges for a saved method: its token (a PayPal account's vault id), and the
 * customer it is saved on; a bank account the provider holds (an IBAN saved at the provider, a
 * verified US account: its PaymentMethod on its customer) by that debit scheme; another bank
 * account (saved before the provider held them) as itself (the provider makes the debit's method).
 */
export function chargeableSource(
  instrument: PaymentInstrument,
): { paymentMethod: string; customer?: string; bankAccount?: BankAccountDebit; savedDebitScheme?: 'sepa_debit' | 'us_bank_account' } | undefined {
  const { credentials } = instrument;
  if (instrument.kind === 'paypal') return credentials.vaultToken ? { paymentMethod: credentials.vaultToken } : undefined;
  if (instrument.kind === 'bank_account' && credentials.pspToken && credentials.customer && (credentials.iban || credentials.routingNumber))
    return { paymentMethod: credentials.pspToken, customer: credentials.customer, savedDebitScheme: credentials.iban ? 'sepa_debit' : 'us_bank_account' };
  if (instrument.kind === 'bank_account') {
    const bankAccount = bankAccountDebit(credentials);
    return bankAccount ? { paymentMethod: '', bankAccount } : undefined;
  }
  if (!credentials.pspToken && !credentials.customer) return undefined;
  return { paymentMethod: credentials.pspToken ?? '', ...(credentials.customer ? { customer: credentials.customer } : {}) };
}

/**
 * Why a saved bank account cannot be debited as it is kept, before anything reaches the PSP: saved
 * before mandates were recorded (no acceptance: `bank_mandate_missing`), or an IBAN saved before the
 * PSP held bank accounts (no PaymentMethod of its own: a SEPA debit needs the holder's e-mail, which
 * only such a PaymentMethod carries — `bank_account_needs_resaving`). The person saves it again.
 */
export function bankAccountRefusal(instrument: PaymentInstrument): 'bank_mandate_missing' | 'bank_account_needs_resaving' | undefined {
  if (instrument.kind !== 'bank_account') return undefined;
  const { credentials } = instrument;
  if (credentials.pspToken && credentials.customer) return undefined;
  if (!credentials.mandate) return 'bank_mandate_missing';
  return credentials.iban ? 'bank_account_needs_resaving' : undefined;
}

/** Credentials problems are ours: keep retrying (and alerting) rather than fail every payment. */
const OPERATOR_FIXABLE = new Set(['authentication_failed', 'permission_denied']);

/** How long the same idempotency key may be retried: Stripe keeps keys for 24 hours; we stop well before. */
export const AUTHORIZE_RETRY_WINDOW_MS = 12 * 60 * 60 * 1000;

/**
 * Use case (the `authorize` step of a card payment): fetch the method's PSP token from the
 * wallet, create and confirm the PaymentIntent (automatic capture) with the key
 * `<paymentId>:authorize`, and apply what the PSP said. A timeout or a lost answer is never a
 * decline: the step is retried with the same key (the PSP answers with the first outcome, so the
 * card is charged once), and the webhook or reconciliation may settle it first.
 *
 * Two transactions in all when the PSP answers at once: the step's claim (which also reads the
 * payment's row), then one that appends what the PSP said (the PaymentIntent id goes into the
 * row with it) and completes the step — shared by the answers of the payments that arrive while
 * another such append runs (PaymentEventStore.appendSoon), so under load both are per batch.
 */
export class AuthorizeAndCapture {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PaymentEventStore,
    private readonly steps: PaymentSteps,
    private readonly providers: PaymentServiceProviders,
    private readonly instruments: WalletInstruments,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async run(step: ClaimedStep): Promise<StepResult> {
    const stored = (step.payment ? this.store.restoreKept(step.payment) : undefined) ?? (await this.store.loadStored(step.paymentId));
    // Settled meanwhile (a webhook, reconciliation, another worker): nothing left to do.
    if (!stored || stored.payment.status !== 'initiated') return { outcome: 'done' };
    const state = stored.payment.state;
    if (this.now().getTime() - stored.createdAt.getTime() > AUTHORIZE_RETRY_WINDOW_MS) {
      this.logger.error({ paymentId: state.paymentId }, 'authorisation still unknown after the retry window; left to reconciliation and an operator');
      return { outcome: 'done' };
    }
    if (!state.paymentMethodId) return this.fail(state, 'payment_method_missing');

    const lookup = await this.instruments.lookup({ paymentId: state.paymentId, personId: state.payerId, methodId: state.paymentMethodId, app: state.app });
    if (lookup.outcome === 'unavailable') return this.retry(step, lookup.reason);
    if (lookup.outcome === 'refused') return this.fail(state, lookup.code);
    // The provider is chosen by the kind of saved method (PSP_ROUTES): a card and a bank account through Stripe, a PayPal account through PayPal.
    const psp = this.providers.forMethodKind(lookup.instrument.kind);
    const source = chargeableSource(lookup.instrument);
    // A bank account kept in a shape the PSP would refuse (saved before mandates, or an IBAN before PaymentMethods): no debit, and the payer is told why.
    const refusal = psp ? bankAccountRefusal(lookup.instrument) : undefined;
    if (refusal) return this.fail(state, refusal);
    if (!psp || !source) return this.fail(state, 'payment_method_not_supported');

    const result = await psp.createPayment({
      idempotencyKey: pspIdempotencyKey(state.paymentId, 'authorize'),
      paymentId: state.paymentId,
      amount: money(state.amount, state.currency),
      paymentMethod: source.paymentMethod,
      ...(source.customer ? { customer: source.customer } : {}),
      ...(source.bankAccount ? { bankAccount: source.bankAccount } : {}),
      ...(source.savedDebitScheme ? { savedDebitScheme: source.savedDebitScheme } : {}),
      captureMethod: state.captureMethod,
      // The payer confirmed in the app; we charge their saved method without them on the page.
      offSession: true,
      metadata: { kind: state.kind, app: state.app },
    });
    switch (result.outcome) {
      case 'succeeded':
        await this.observe(step, stored, result.value);
        return { outcome: 'done', completed: true };
      case 'declined':
        if (result.payment) {
          const applied = await this.observe(step, stored, result.payment);
          if (applied.outcome !== 'conflict') return { outcome: 'done', completed: true };
        }
        return this.fail(state, result.code, result.declineCode);
      case 'retryable':
        return this.retry(step, result.reason, result.retryAfterMs);
      case 'unknown':
        this.logger.warn(
          { paymentId: state.paymentId, attempts: step.attempts },
          'PSP outcome unknown (timeout or lost answer): retrying with the same idempotency key',
        );
        return this.retry(step, result.reason);
      case 'rejected':
        if (OPERATOR_FIXABLE.has(result.code)) {
          this.logger.error({ paymentId: state.paymentId, code: result.code }, 'the PSP refuses our credentials: payments wait until an operator fixes them');
          return this.retry(step, result.code);
        }
        return this.fail(state, result.code);
      case 'idempotency_conflict':
        // Our key was used for other parameters: a bug. Never retry with a new key (that could charge twice).
        this.logger.error({ paymentId: state.paymentId, reason: result.reason }, 'PSP idempotency conflict; left to reconciliation and an operator');
        return { outcome: 'done' };
    }
  }

  /**
   * Applies a PSP answer about the PaymentIntent and completes the step, in one transaction after
   * the payment as the claim read it; its id is recorded even when nothing moves yet. The common
   * answer (events that name the PaymentIntent) is one statement: events, outbox rows and the
   * step's completion. Another writer got in first (a webhook): planned again from a fresh read,
   * the step completed after.
   */
  private async observe(step: ClaimedStep, stored: StoredPayment, answer: PspPayment): Promise<PspNewsOutcome> {
    const { paymentId } = stored.payment.state;
    const plan = planPaymentObservation(stored.payment.state, answer.provider, answer.observation);
    try {
      const namesIntent =
        plan.outcome === 'advance' && plan.events.reduce((payment, event) => payment.apply(event), stored.payment).state.reference !== undefined;
      if (namesIntent) {
        // Autocommitted, in one statement with the answers of other payments that arrive meanwhile.
        await this.store.appendSoon(paymentId, stored, plan.events, { completesStep: step.step });
      } else {
        await inTransaction(this.dataSource, async (sql) => {
          if (plan.outcome === 'advance') {
            const appended = await this.store.appendAfter(sql, paymentId, stored, plan.events);
            // The events that name the PaymentIntent put its id in the row themselves.
            if (appended.payment.state.reference === undefined) await recordPspReference(sql, paymentId, answer.provider, answer.id);
          } else {
            await recordPspReference(sql, paymentId, answer.provider, answer.id);
          }
          await this.steps.complete(paymentId, step.step, sql);
        });
      }
    } catch (error) {
      if (!(error instanceof PaymentVersionConflictError)) throw error;
      await inTransaction(this.dataSource, (sql) => recordPspReference(sql, paymentId, answer.provider, answer.id));
      const applied = await applyPspNews(this.store, paymentId, { about: 'payment', provider: answer.provider, observation: answer.observation });
      if (applied.outcome === 'conflict')
        this.logger.error({ paymentId, reason: applied.reason }, 'PSP answer contradicts the payment; left to reconciliation');
      await this.steps.complete(paymentId, step.step);
      return applied;
    }
    if (plan.outcome === 'conflict') this.logger.error({ paymentId, reason: plan.reason }, 'PSP answer contradicts the payment; left to reconciliation');
    return plan.outcome === 'advance' ? { outcome: 'advanced', events: plan.events } : plan;
  }

  private async fail(state: PaymentState, code: string, declineCode?: string): Promise<StepResult> {
    const safe = (value: string): string =>
      value
        .toLowerCase()
        .replace(/[^a-z0-9_]/g, '_')
        .replace(/^[^a-z]+/, '')
        .slice(0, 64) || 'payment_failed';
    await this.store.update(state.paymentId, (payment) =>
      payment?.status === 'initiated' ? [{ type: 'Failed', code: safe(code), ...(declineCode ? { declineCode: safe(declineCode) } : {}) }] : [],
    );
    return { outcome: 'done' };
  }

  private retry(step: ClaimedStep, reason: string, afterMs?: number): StepResult {
    return { outcome: 'retry', afterMs: Math.max(afterMs ?? 0, backoffMs(step.attempts)), reason };
  }
}
