import type { Logger } from '@pay/observability';
import type { DataSource } from 'typeorm';
import type { ApplyPspWebhook } from '../apply-psp-webhook/apply-psp-webhook';
import type { AuthorizeAndCapture } from '../authorize-and-capture/authorize-and-capture';
import type { PspNewsOutcome } from '../payments/apply-psp-news';
import { applyPspNews } from '../payments/apply-psp-news';
import type { PaymentEventStore } from '../payments/store/payment-event-store';
import type { PaymentRow } from '../payments/store/payment-row';
import type { PaymentServiceProviders } from '../psp/payment-service-providers';
import type { RefundPayment } from '../refund-payment/refund-payment';
import { refundStep } from '../refund-payment/refund-payment';
import type { StepResult } from '../run-payment-steps/payment-step-worker';
import type { SettleAuthorization } from '../settle-authorization/settle-authorization';
import { AUTHORIZATION_WINDOW_MS } from '../settle-authorization/settle-authorization';
import type { TransferFunds } from '../transfer-funds/transfer-funds';
import { WALLET_PROVIDER } from '../transfer-funds/transfer-funds';

export interface ReconcileOptions {
  /** Payments whose last change is older than this are looked at. */
  readonly stuckAfterMs: number;
  readonly limit?: number;
  /** A manual authorisation neither captured nor voided for this long is voided (AUTHORIZATION_WINDOW_MS when absent). */
  readonly authorizationWindowMs?: number;
}

export interface ReconcileReport {
  readonly examined: number;
  readonly webhooksApplied: number;
  /** Payments moved forward, with the events appended. */
  readonly advanced: { paymentId: string; events: string[] }[];
  readonly unchanged: number;
  /** The PSP and our history disagree: an operator decides (nothing was written). */
  readonly conflicts: { paymentId: string; reason: string }[];
  /** Still undecided (PSP unreachable, wallet not answering): the next run tries again. */
  readonly pending: { paymentId: string; reason: string }[];
}

type Finding = { kind: 'advanced'; events: string[] } | { kind: 'unchanged' } | { kind: 'conflict'; reason: string } | { kind: 'pending'; reason: string };

const fromObservation = (result: PspNewsOutcome): Finding => {
  switch (result.outcome) {
    case 'advanced':
      return result.events.length > 0 ? { kind: 'advanced', events: result.events.map((e) => e.type) } : { kind: 'unchanged' };
    case 'unchanged':
      return { kind: 'unchanged' };
    case 'conflict':
      return { kind: 'conflict', reason: result.reason };
    case 'unknown_payment':
      return { kind: 'conflict', reason: 'the payment has no stream' };
  }
};

/** The statuses the provider has not settled yet; `payments_open`'s predicate must imply this query's (reconcile-payments.int-spec.ts). */
export const UNSETTLED_STATUSES = ['initiated', 'requires_action', 'authorized', 'processing'] as const;

/** The payments reconciliation asks the providers about: unsettled or with a refund pending, untouched for a while, oldest first. */
export const OPEN_PAYMENTS_SQL = `SELECT payment_id, kind, status, provider, reference, pending_refunds, updated_at, created_at FROM payments
        WHERE (status IN (${UNSETTLED_STATUSES.map((status) => `'${status}'`).join(', ')}) OR pending_refunds > 0)
          AND updated_at < now() - $1 * interval '1 millisecond'
        ORDER BY updated_at LIMIT $2`;

/**
 * Use case: payments stuck in a non-final status (initiated, requires_action, authorized,
 * processing, or with a refund pending) for longer than a limit are brought to the provider's truth:
 * - a card payment the PSP knows (we have its PaymentIntent id): retrieve it and apply what it
 *   says through the planner (forward only; a contradiction is reported, never forced);
 * - a card payment without a PaymentIntent id (the answer to the create call never came): the
 *   create is sent again with its idempotency key, which returns the first outcome rather than
 *   charging again;
 * - a pending refund: retrieve it (or ask again with its key when its id never came back);
 * - a transfer the wallet never confirmed: voided (the compensation), as the deadline step does.
 * Webhooks recorded but never applied are applied first (due or not, given up or not).
 */
export class ReconcilePayments {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PaymentEventStore,
    private readonly providers: PaymentServiceProviders,
    private readonly authorize: AuthorizeAndCapture,
    private readonly refunds: RefundPayment,
    private readonly transfers: TransferFunds,
    private readonly settlements: SettleAuthorization,
    private readonly webhooks: ApplyPspWebhook,
    private readonly logger: Logger,
  ) {}

  async run(options: ReconcileOptions): Promise<ReconcileReport> {
    const webhooksApplied = await this.webhooks.sweepAll(options.limit ?? 500);
    const rows = await this.dataSource.query<PaymentRow[]>(OPEN_PAYMENTS_SQL, [options.stuckAfterMs, options.limit ?? 500]);
    const report: { -readonly [K in keyof ReconcileReport]: ReconcileReport[K] } = {
      examined: rows.length,
      webhooksApplied,
      advanced: [],
      unchanged: 0,
      conflicts: [],
      pending: [],
    };
    for (const row of rows) {
      let findings: Finding[];
      try {
        findings = await this.reconcile(row, options.authorizationWindowMs ?? AUTHORIZATION_WINDOW_MS);
      } catch (error) {
        findings = [{ kind: 'pending', reason: `${(error as Error).name}: ${(error as Error).message}` }];
      }
      for (const finding of findings) {
        if (finding.kind === 'advanced') report.advanced.push({ paymentId: row.payment_id, events: finding.events });
        else if (finding.kind === 'unchanged') report.unchanged += 1;
        else if (finding.kind === 'conflict') report.conflicts.push({ paymentId: row.payment_id, reason: finding.reason });
        else report.pending.push({ paymentId: row.payment_id, reason: finding.reason });
      }
    }
    this.logger.info(
      { examined: report.examined, advanced: report.advanced.length, conflicts: report.conflicts.length, pending: report.pending.length, webhooksApplied },
      'reconciliation done',
    );
    return report;
  }

  private async reconcile(row: PaymentRow, authorizationWindowMs: number): Promise<Finding[]> {
    if (row.kind === 'transfer' || row.provider === WALLET_PROVIDER) return [await this.reconcileTransfer(row)];
    const findings: Finding[] = [];
    if ((UNSETTLED_STATUSES as readonly string[]).includes(row.status)) {
      const finding = await this.reconcileCard(row);
      findings.push(finding);
      // Still held at the provider, and the merchant let the window pass: released rather than left to expire there unseen.
      const undecided = finding.kind === 'unchanged' && row.status === 'authorized' && Date.now() - new Date(row.updated_at).getTime() >= authorizationWindowMs;
      if (undecided && (await this.settlements.release(row.payment_id)))
        findings.push({ kind: 'pending', reason: 'manual authorisation undecided past its window: void scheduled' });
    }
    if (row.pending_refunds > 0) findings.push(...(await this.reconcileRefunds(row)));
    return findings;
  }

  private async reconcileCard(row: PaymentRow): Promise<Finding> {
    if (!row.reference) {
      if (row.status !== 'initiated') return { kind: 'conflict', reason: `status ${row.status} without a provider reference` };
      return this.redrive(row.payment_id, () => this.authorize.run({ paymentId: row.payment_id, step: 'authorize', attempts: 1 }));
    }
    const psp = this.providers.named(row.provider ?? '');
    if (!psp) return { kind: 'conflict', reason: `no adapter for provider ${row.provider ?? '(none)'}` };
    const retrieved = await psp.retrievePayment(row.reference);
    if (retrieved.outcome !== 'succeeded') return { kind: 'pending', reason: `retrieve ${row.reference}: ${retrieved.outcome}` };
    return fromObservation(
      await applyPspNews(this.store, row.payment_id, { about: 'payment', provider: retrieved.value.provider, observation: retrieved.value.observation }),
    );
  }

  private async reconcileRefunds(row: PaymentRow): Promise<Finding[]> {
    const payment = await this.store.load(row.payment_id);
    if (!payment) return [{ kind: 'conflict', reason: 'the payment has no stream' }];
    const known = await this.dataSource.query<{ refund_id: string; psp_refund_id: string }[]>(
      'SELECT refund_id, psp_refund_id FROM psp_refunds WHERE payment_id = $1',
      [row.payment_id],
    );
    const findings: Finding[] = [];
    for (const refund of payment.state.refunds.filter((r) => r.status === 'pending')) {
      const pspRefundId = known.find((k) => k.refund_id === refund.refundId)?.psp_refund_id;
      if (!pspRefundId) {
        findings.push(
          await this.redrive(row.payment_id, () => this.refunds.run({ paymentId: row.payment_id, step: refundStep(refund.refundId), attempts: 1 })),
        );
        continue;
      }
      const psp = this.providers.named(row.provider ?? '');
      if (!psp) {
        findings.push({ kind: 'conflict', reason: `no adapter for provider ${row.provider ?? '(none)'}` });
        continue;
      }
      const retrieved = await psp.retrieveRefund(pspRefundId);
      if (retrieved.outcome !== 'succeeded') findings.push({ kind: 'pending', reason: `retrieve refund ${pspRefundId}: ${retrieved.outcome}` });
      else findings.push(fromObservation(await applyPspNews(this.store, row.payment_id, { about: 'refund', observation: retrieved.value.observation })));
    }
    return findings;
  }

  private async reconcileTransfer(row: PaymentRow): Promise<Finding> {
    if (row.status === 'initiated') {
      return this.redrive(row.payment_id, () => this.transfers.onConfirmationDeadline({ paymentId: row.payment_id, step: 'confirm-funds', attempts: 1 }));
    }
    // Reserved and asked to post, or a refund asked of it: only the wallet can finish it (its hold expires on its own otherwise).
    if (row.pending_refunds > 0) return { kind: 'pending', reason: `transfer ${row.status}: waiting for the wallet to return a refund` };
    return { kind: 'pending', reason: `transfer ${row.status}: waiting for the wallet to post the reservation` };
  }

  /** Re-runs a step and reports the events it appended (none: unchanged; a retry: still pending). */
  private async redrive(paymentId: string, run: () => Promise<StepResult>): Promise<Finding> {
    const before = (await this.store.load(paymentId))?.version ?? 0;
    const result = await run();
    const appended = await this.dataSource.query<{ type: string }[]>(
      'SELECT type FROM payment_events WHERE payment_id = $1 AND sequence > $2 ORDER BY sequence',
      [paymentId, before],
    );
    if (appended.length > 0) return { kind: 'advanced', events: appended.map((row) => row.type) };
    return result.outcome === 'retry' ? { kind: 'pending', reason: result.reason } : { kind: 'unchanged' };
  }
}
