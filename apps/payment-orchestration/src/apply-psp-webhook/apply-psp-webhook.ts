import type { Logger } from '@pay/observability';
import type { DataSource } from 'typeorm';
import { inTransaction } from '../database/sql';
import type { PspNewsOutcome, PspNews } from '../payments/apply-psp-news';
import { applyPspNews } from '../payments/apply-psp-news';
import type { PaymentEventStore } from '../payments/store/payment-event-store';
import { paymentIdByReference } from '../payments/store/payment-row';
import type { PspWebhookEvent } from '../psp/psp.port';
import type { PspWebhookInbox, WebhookOutcome } from '../webhooks/receive-psp-webhook/psp-webhook-inbox';

export interface WebhookSweep {
  readonly applied: number;
  /** When the earliest webhook not due yet is due; undefined when none waits for a time. */
  readonly nextDueAt?: Date;
}

/**
 * Use case: apply a recorded PSP webhook to its payment, through the same planner as PSP answers
 * and reconciliation reads. Deliveries twice or out of order change nothing more: a duplicate is
 * already marked applied, and news older than the payment (a `processing` after `succeeded`) is
 * stale. The payment is found by our id in the object's metadata, else by the provider's id of
 * the PaymentIntent (`payments.reference`: disputes carry only that). Events appended and the
 * webhook marked applied commit together.
 */
export class ApplyPspWebhook {
  private readonly retryListeners = new Set<(at: Date) => void>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PaymentEventStore,
    private readonly inbox: PspWebhookInbox,
    private readonly logger: Logger,
  ) {}

  async apply(event: PspWebhookEvent): Promise<WebhookOutcome> {
    const target = await this.targetOf(event);
    if (target === 'ignored') {
      await this.inbox.markApplied(event.provider, event.id, 'ignored');
      return 'ignored';
    }
    if (!target) {
      // Its payment is not known here (yet): kept unapplied, retried by the sweep and reconciliation.
      this.expectRetryAt(await this.inbox.markUnmatched(event.provider, event.id));
      this.logger.warn({ provider: event.provider, eventId: event.id, type: event.type }, 'PSP webhook for a payment not known here; kept for a later sweep');
      return 'unmatched';
    }
    const result: PspNewsOutcome = await applyPspNews(this.store, target.paymentId, target.news, {
      onAppended: (sql) => this.inbox.markApplied(event.provider, event.id, 'applied', sql),
    });
    const outcome: WebhookOutcome = result.outcome === 'advanced' ? 'applied' : result.outcome === 'unknown_payment' ? 'unmatched' : result.outcome;
    if (result.outcome === 'advanced' && result.events.length > 0) {
      this.logger.info({ paymentId: target.paymentId, eventId: event.id, type: event.type, events: result.events.map((e) => e.type) }, 'PSP webhook applied');
    } else if (outcome === 'unmatched') {
      this.expectRetryAt(await this.inbox.markUnmatched(event.provider, event.id));
    } else {
      if (result.outcome === 'conflict')
        this.logger.error(
          { paymentId: target.paymentId, eventId: event.id, type: event.type, reason: result.reason },
          'PSP webhook contradicts the payment; left to reconciliation',
        );
      await this.inbox.markApplied(event.provider, event.id, outcome === 'applied' ? 'unchanged' : outcome);
    }
    return outcome;
  }

  /**
   * Applies the webhooks due for another attempt (recorded but not applied: a crash or a failure in
   * between, or their payment was unknown then, or they raced their payment's answer). First, one
   * statement marks applied all those whose news the payment now reflects (the commonest: a
   * webhook recorded while its answer's append ran); then the others, page after page until none
   * is due. One that fails is postponed by its backoff, so it cannot hold up the others. Returns
   * how many were applied and when the next one not due yet is due (as read by the last page).
   */
  async sweep(limit = 200): Promise<WebhookSweep> {
    let applied = await this.inbox.absorbDue();
    for (;;) {
      const page = await this.inbox.due(limit);
      for (const event of page.events) {
        if (await this.applyOrPostpone(event)) applied += 1;
      }
      // Every webhook of a page leaves the due ones (applied, pushed back or given up): a full page may mean more.
      if (page.events.length < limit) return { applied, ...(page.nextDueAt ? { nextDueAt: page.nextDueAt } : {}) };
    }
  }

  /** Reconciliation: applies every webhook not applied yet, due or not, given up or not. Returns how many were applied. */
  async sweepAll(limit = 500): Promise<number> {
    let applied = 0;
    for (const event of await this.inbox.unapplied(limit)) {
      if (await this.applyOrPostpone(event)) applied += 1;
    }
    return applied;
  }

  /** Told when a webhook this process could not apply is to be looked at again (the sweeper sleeps until the earliest). */
  watchRetries(listener: (at: Date) => void): () => void {
    this.retryListeners.add(listener);
    return () => this.retryListeners.delete(listener);
  }

  /** A webhook is to be looked at again at `at` (undefined: never, it was given up). */
  expectRetryAt(at: Date | undefined): void {
    if (at) for (const listener of this.retryListeners) listener(at);
  }

  private async applyOrPostpone(event: PspWebhookEvent): Promise<boolean> {
    try {
      return (await this.apply(event)) !== 'unmatched';
    } catch (error) {
      this.logger.error({ provider: event.provider, eventId: event.id, reason: (error as Error).message }, 'applying a PSP webhook failed; postponed');
      this.expectRetryAt(await this.inbox.postpone(event.provider, event.id));
      return false;
    }
  }

  private async targetOf(event: PspWebhookEvent): Promise<{ paymentId: string; news: PspNews } | 'ignored' | undefined> {
    const subject = event.subject;
    const byReference = (reference: string | undefined): Promise<string | undefined> =>
      reference ? inTransaction(this.dataSource, (sql) => paymentIdByReference(sql, event.provider, reference)) : Promise.resolve(undefined);
    switch (subject.kind) {
      case 'payment': {
        const paymentId = subject.payment.paymentId ?? (await byReference(subject.payment.id));
        return paymentId ? { paymentId, news: { about: 'payment', provider: subject.payment.provider, observation: subject.payment.observation } } : undefined;
      }
      case 'refund': {
        const paymentId = subject.refund.paymentId ?? (await byReference(subject.refund.pspPaymentId));
        return paymentId ? { paymentId, news: { about: 'refund', observation: subject.refund.observation } } : undefined;
      }
      case 'dispute': {
        const paymentId = subject.paymentId ?? (await byReference(subject.pspPaymentId));
        return paymentId ? { paymentId, news: { about: 'dispute', observation: subject.observation } } : undefined;
      }
      case 'other':
        return 'ignored';
    }
  }
}
