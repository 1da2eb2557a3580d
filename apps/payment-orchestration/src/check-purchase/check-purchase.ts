import { toMinorUnits } from '@pay/contracts';
import type { RolloutPolicy } from '@pay/rollout';
import type { PaymentLimits } from './payment-limits';
import { PurchaseRefusal } from './purchase-refusal';
import type { PurchaseRequest } from './purchase-request';

/** What orchestration knows of a person's wallet (its read model of wallet.events.v1). */
export interface WalletFacts {
  readonly personId: string;
  readonly country?: string;
  readonly apps: readonly string[];
  readonly preferredMethodId?: string;
}

export interface MethodFacts {
  readonly methodId: string;
  readonly personId: string;
  readonly removed: boolean;
}

/** Everything the checks look at, read beforehand so the checks themselves are plain rules. */
export interface PurchaseFacts {
  readonly payer?: WalletFacts;
  /** The method named by the request, or the payer's preferred one. */
  readonly method?: MethodFacts;
  /** For a transfer: whether the recipient has a wallet. */
  readonly recipientHasWallet?: boolean;
  readonly nonProfitRegistered?: boolean;
}

export interface PurchaseRules {
  readonly rollout: RolloutPolicy;
  readonly limits: PaymentLimits;
}

/** Each kind goes to one kind of counterparty. */
const COUNTERPARTY_OF = { purchase: 'merchant', donation: 'non-profit', transfer: 'person' } as const;

/** What the checks decided: a refusal, or the method to charge (none for a transfer from balance). */
export type CheckOutcome = { readonly accepted: true; readonly paymentMethodId?: string } | { readonly accepted: false; readonly refusal: PurchaseRefusal };

const refuse = (code: PurchaseRefusal['code'], message: string): CheckOutcome => ({ accepted: false, refusal: new PurchaseRefusal(code, message) });

/**
 * The checks before money moves, in a fixed order so a request with several problems always gets
 * the same code: what is asked (counterparty, currency, amount), where (rollout), who (wallet,
 * Pay in the app, the recipient or non-profit), with what (the method). The step-up proof is
 * checked last, by the caller (it needs the signature verified and the proof consumed).
 */
export function checkPurchase(request: PurchaseRequest, facts: PurchaseFacts, rules: PurchaseRules): CheckOutcome {
  const expected = COUNTERPARTY_OF[request.kind];
  if (request.counterparty.type !== expected) {
    return refuse('COUNTERPARTY_NOT_ALLOWED', `a ${request.kind} goes to a ${expected}, not a ${request.counterparty.type}`);
  }
  // A transfer moves wallet balance at once; only a provider holds an authorisation for later.
  if (request.kind === 'transfer' && request.captureMethod === 'manual') {
    return refuse('CAPTURE_METHOD_NOT_SUPPORTED', 'a transfer from the wallet balance is captured at once; send it without captureMethod');
  }
  if (request.kind === 'transfer' && request.counterparty.id === request.payerId) {
    return refuse('SELF_TRANSFER', 'a person cannot send money to themselves');
  }
  if (!rules.rollout.isLive(request.country)) {
    return refuse('PAY_NOT_AVAILABLE_IN_COUNTRY', `Pay is not available in ${request.country} yet`);
  }
  if (!rules.rollout.isLive(request.country, request.app)) {
    return refuse(
      'PAY_NOT_AVAILABLE_IN_APP',
      `Pay is not available in ${request.app} in ${request.country} yet; it is available in ${rules.rollout.liveApps(request.country).join(', ')}`,
    );
  }
  const { currency } = request.amount;
  const amount = toMinorUnits(request.amount);
  const range = rules.limits.get(currency);
  if (!range) return refuse('CURRENCY_NOT_SUPPORTED', `payments in ${currency} are not accepted; accepted: ${[...rules.limits.keys()].join(', ')}`);
  if (amount < range.min) return refuse('AMOUNT_BELOW_MINIMUM', `the amount must be at least ${range.min} minor units of ${currency}`);
  if (amount > range.max) return refuse('AMOUNT_ABOVE_MAXIMUM', `the amount must be at most ${range.max} minor units of ${currency}`);

  const payer = facts.payer;
  if (!payer) return refuse('WALLET_NOT_FOUND', 'the person has no wallet');
  if (!payer.apps.includes(request.app)) return refuse('PAY_NOT_ACTIVE_IN_APP', `the person has not turned Pay on in ${request.app}`);

  if (request.kind === 'donation' && !facts.nonProfitRegistered) {
    return refuse('NON_PROFIT_NOT_REGISTERED', `${request.counterparty.id} is not a registered non-profit`);
  }
  if (request.kind === 'transfer') {
    if (!facts.recipientHasWallet) return refuse('RECIPIENT_NOT_FOUND', 'the recipient has no wallet');
    // Person to person is paid from the wallet balance; a card is never charged for it.
    if (request.paymentMethodId !== undefined)
      return refuse('PAYMENT_METHOD_NOT_ACCEPTED', 'a transfer is paid from the wallet balance; send it without paymentMethodId');
    return { accepted: true };
  }

  if (request.paymentMethodId === undefined && payer.preferredMethodId === undefined) {
    return refuse('NO_PREFERRED_METHOD', 'the person has no preferred payment method; name one with paymentMethodId');
  }
  const method = facts.method;
  if (!method || method.personId !== request.payerId) return refuse('PAYMENT_METHOD_NOT_FOUND', 'the person has no such payment method');
  if (method.removed) return refuse('PAYMENT_METHOD_REMOVED', 'the payment method was removed and can no longer pay');
  return { accepted: true, paymentMethodId: method.methodId };
}
