import type { DisputeObservation, PaymentEvent, PspObservation, PspPlan, RefundObservation } from '@pay/payments-domain';
import { planDisputeObservation, planPaymentObservation, planRefundObservation } from '@pay/payments-domain';
import type { AppendContext, PaymentEventStore } from './store/payment-event-store';

/** What applying a piece of PSP news (applyPspNews) did to the payment. */
export type PspNewsOutcome =
  | { readonly outcome: 'advanced'; readonly events: readonly PaymentEvent[] }
  | { readonly outcome: 'unchanged'; readonly reason: string }
  | { readonly outcome: 'conflict'; readonly reason: string }
  | { readonly outcome: 'unknown_payment' };

export type PspNews =
  | { readonly about: 'payment'; readonly provider: string; readonly observation: PspObservation }
  | { readonly about: 'refund'; readonly observation: RefundObservation }
  | { readonly about: 'dispute'; readonly observation: DisputeObservation };

/**
 * Applies PSP news — a response, a webhook, a reconciliation read — through the domain's planner,
 * the one place that decides whether it moves the payment forward (never backwards), changes
 * nothing (already applied, stale, no news) or contradicts our history (a conflict left for
 * reconciliation: nothing is written). A concurrent writer makes it plan again from a fresh read.
 */
export async function applyPspNews(store: PaymentEventStore, paymentId: string, news: PspNews, context: AppendContext = {}): Promise<PspNewsOutcome> {
  let plan: PspPlan | undefined;
  let found = true;
  const appended = await store.update(
    paymentId,
    (payment) => {
      if (!payment) {
        found = false;
        return [];
      }
      plan =
        news.about === 'payment'
          ? planPaymentObservation(payment.state, news.provider, news.observation)
          : news.about === 'refund'
            ? planRefundObservation(payment.state, news.observation)
            : planDisputeObservation(payment.state, news.observation);
      return plan.outcome === 'advance' ? plan.events : [];
    },
    context,
    5,
  );
  if (!found) return { outcome: 'unknown_payment' };
  const decided = plan as PspPlan;
  if (decided.outcome === 'advance') return { outcome: 'advanced', events: appended ? decided.events : [] };
  return decided;
}
