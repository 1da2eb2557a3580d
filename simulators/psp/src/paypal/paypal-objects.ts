/**
 * PayPal's REST objects as the simulator keeps and returns them (snake case, amounts as decimal
 * strings in the currency's unit, as PayPal's Orders v2 and Payments v2 APIs do).
 */

export interface PayPalMoney {
  currency_code: string;
  value: string;
}

export interface PayPalLink {
  href: string;
  rel: string;
  method: string;
}

export interface PayPalCaptureObject {
  id: string;
  status: 'COMPLETED' | 'DECLINED' | 'PARTIALLY_REFUNDED' | 'PENDING' | 'REFUNDED' | 'FAILED';
  status_details?: { reason: string };
  amount: PayPalMoney;
  final_capture: boolean;
  custom_id?: string;
  invoice_id?: string;
  supplementary_data: { related_ids: { order_id: string } };
  seller_protection: { status: 'ELIGIBLE' };
  create_time: string;
  update_time: string;
  links: PayPalLink[];
}

/** An authorisation of an order with intent AUTHORIZE: captured (once, all or part) or voided later, honoured 3 days. */
export interface PayPalAuthorizationObject {
  id: string;
  status: 'CREATED' | 'CAPTURED' | 'PARTIALLY_CAPTURED' | 'VOIDED' | 'EXPIRED';
  amount: PayPalMoney;
  custom_id?: string;
  invoice_id?: string;
  expiration_time: string;
  supplementary_data: { related_ids: { order_id: string } };
  seller_protection: { status: 'ELIGIBLE' };
  create_time: string;
  update_time: string;
  links: PayPalLink[];
}

/** A payer's dispute of a capture (Customer Disputes v1), decided for the buyer or the seller. */
export interface PayPalDisputeObject {
  dispute_id: string;
  create_time: string;
  update_time: string;
  disputed_transactions: { seller_transaction_id: string; custom?: string }[];
  reason: string;
  status: 'OPEN' | 'WAITING_FOR_SELLER_RESPONSE' | 'UNDER_REVIEW' | 'RESOLVED';
  dispute_amount: PayPalMoney;
  dispute_life_cycle_stage: 'INQUIRY' | 'CHARGEBACK';
  dispute_outcome?: { outcome_code: 'RESOLVED_BUYER_FAVOUR' | 'RESOLVED_SELLER_FAVOUR' };
  links: PayPalLink[];
}

export interface PayPalPurchaseUnit {
  reference_id: string;
  amount: PayPalMoney;
  custom_id?: string;
  invoice_id?: string;
  description?: string;
  payments?: { captures: PayPalCaptureObject[]; authorizations?: PayPalAuthorizationObject[] };
}

export interface PayPalOrderObject {
  id: string;
  intent: 'CAPTURE' | 'AUTHORIZE';
  status: 'CREATED' | 'SAVED' | 'APPROVED' | 'VOIDED' | 'COMPLETED' | 'PAYER_ACTION_REQUIRED';
  payment_source: { paypal: { vault_id: string; account_id: string; email_address: string } };
  purchase_units: PayPalPurchaseUnit[];
  create_time: string;
  update_time: string;
  links: PayPalLink[];
}

export interface PayPalRefundObject {
  id: string;
  status: 'CANCELLED' | 'FAILED' | 'PENDING' | 'COMPLETED';
  status_details?: { reason: string };
  amount: PayPalMoney;
  custom_id?: string;
  invoice_id?: string;
  note_to_payer?: string;
  create_time: string;
  update_time: string;
  links: PayPalLink[];
}

export interface PayPalVaultToken {
  id: string;
  customer: { id: string };
  payment_source: { paypal: { email_address: string; account_id: string } };
  links: PayPalLink[];
}

/**
 * A Vault v3 setup token: a PayPal account to save without a purchase. The payer approves it on
 * PayPal's page (the `approve` link), then the merchant makes a payment token (vault id) of it, once.
 */
export interface PayPalSetupToken {
  id: string;
  customer: { id: string; merchant_customer_id?: string };
  status: 'PAYER_ACTION_REQUIRED' | 'APPROVED' | 'VAULTED' | 'CANCELED';
  payment_source: {
    paypal: {
      description?: string;
      usage_type: string;
      experience_context: { return_url: string; cancel_url: string; brand_name?: string };
      email_address?: string;
      payer_id?: string;
    };
  };
  links: PayPalLink[];
}

/** A webhook event as PayPal POSTs it. */
export interface PayPalWebhookEvent {
  id: string;
  event_version: '1.0';
  create_time: string;
  resource_type: 'capture' | 'refund' | 'checkout-order' | 'authorization' | 'dispute';
  resource_version: '2.0';
  event_type: string;
  summary: string;
  resource: object;
  links: PayPalLink[];
}

/** One API request as the simulator answered it. */
export interface PayPalRecordedRequest {
  method: string;
  path: string;
  requestId?: string;
  status: number;
  replayed: boolean;
  fault?: string;
}

/** Currencies PayPal carries without decimals. */
const ZERO_DECIMAL = new Set(['HUF', 'JPY', 'TWD']);

export function decimalsOf(currency: string): number {
  return ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2;
}

/** "12.34" in EUR -> 1234 (minor units); undefined for a value that is not a well-formed amount of that currency. */
export function minorUnitsOf(money: PayPalMoney): bigint | undefined {
  const decimals = decimalsOf(money.currency_code);
  const pattern = decimals === 0 ? /^\d{1,15}$/ : new RegExp(`^\\d{1,13}(\\.\\d{1,${decimals}})?$`);
  if (!pattern.test(money.value)) return undefined;
  const [whole, fraction = ''] = money.value.split('.');
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
}

export function moneyOf(minor: bigint, currency: string): PayPalMoney {
  const decimals = decimalsOf(currency);
  if (decimals === 0) return { currency_code: currency, value: minor.toString() };
  const digits = minor.toString().padStart(decimals + 1, '0');
  return { currency_code: currency, value: `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}` };
}
