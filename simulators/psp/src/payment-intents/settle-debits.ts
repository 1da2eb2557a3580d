import type { ApiContext } from '../api-context';
import { completePaymentIntent } from './complete-payment-intent';

/**
 * The banks answer the debits whose time came (simulated time): each settles or fails as its
 * payment method decided, with Stripe's webhooks. Returns the PaymentIntents answered.
 */
export function settleDueDebits(context: ApiContext): string[] {
  const now = context.clock.now();
  const due = [...context.state.debits.values()].filter((debit) => !debit.answered && debit.settlesAt <= now).map((debit) => debit.paymentIntent);
  const answered: string[] = [];
  for (const id of due) {
    const debit = context.state.debits.get(id);
    const intent = context.state.paymentIntents.get(id);
    if (!debit) continue;
    if (intent?.status !== 'processing') {
      // Completed on command already.
      debit.answered = true;
      continue;
    }
    completePaymentIntent(context, id, debit.outcome);
    answered.push(id);
  }
  return answered;
}
