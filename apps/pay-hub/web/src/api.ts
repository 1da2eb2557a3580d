/** Calls to the hub's own server: the session cookie goes along, never a token (docs/adr/0010-pay-hub-sessions.md). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown, options: { idempotencyKey?: string } = {}): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    // The server refuses a change without this header: a page of another site cannot set it without a preflight.
    headers: {
      accept: 'application/json',
      'x-pay-hub': '1',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!response.ok) {
    const details = Array.isArray(parsed.details) ? parsed.details.map(String) : [];
    const code = typeof parsed.code === 'string' ? parsed.code : `HTTP_${response.status}`;
    throw new ApiError(response.status, code, typeof parsed.message === 'string' ? parsed.message : response.statusText, details);
  }
  return parsed as T;
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return [error.message, ...error.details].join(': ');
  return error instanceof Error ? error.message : String(error);
}

export function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const APPS = ['facebook', 'instagram', 'messenger', 'whatsapp'] as const;
export const ENTRY_KINDS = ['purchase', 'donation', 'transfer', 'refund', 'chargeback'] as const;
export const ENTRY_STATUSES = [
  'initiated',
  'authorized',
  'processing',
  'captured',
  'partially_refunded',
  'refunded',
  'failed',
  'canceled',
  'disputed',
  'pending',
  'succeeded',
  'charged_back',
] as const;
export const METHOD_TYPES = ['card', 'paypal', 'bank_account', 'stripe_customer', 'wallet_balance', 'unknown'] as const;

export interface SessionUser {
  sub: string;
  role: 'person' | 'analyst' | 'support';
}

export interface SessionAnswer {
  signedIn: boolean;
  signIn: { mode: 'development' | 'oidc' };
  user?: SessionUser;
}

export interface Money {
  amount: string;
  currency: string;
}

export interface HistoryEntry {
  id: string;
  paymentId: string;
  kind: string;
  status: string;
  direction?: 'in' | 'out';
  counterparty?: { type: string; id: string };
  payer: { type: string; id: string };
  payee: { type: string; id: string };
  app: string | null;
  country: string | null;
  amount: Money;
  netAmount: Money;
  paymentMethod: { id: string | null; type: string };
  ledgerTransactionId: string | null;
  /** Why a failed payment failed: history's enumerated code (PAYMENT_FAILURE_CODES in libs/contracts). */
  failureCode?: string | null;
  occurredAt: string;
}

/** What the person reads for the failure codes they can act on; any other code is shown as it is. */
const FAILURE_REASONS: Readonly<Record<string, string>> = {
  authentication_required: 'Your bank asks you to confirm every payment with this card, which a purchase in an app cannot do: pay with another method',
  card_declined: 'Your card was declined',
  expired_card: 'Your card has expired',
  incorrect_cvc: "Your card's security code is incorrect",
  insufficient_funds: 'There was not enough money in the account',
  payment_method_removed: 'The payment method was removed',
  bank_account_needs_resaving: 'This bank account must be saved again before it can pay',
};

/** A failed payment's reason as the person sees it, with its code (e.g. for support). */
export function failureText(code: string): string {
  const reason = FAILURE_REASONS[code] ?? 'The payment failed';
  return `${reason} (${code})`;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  nextCursor: string | null;
}

export interface PaymentMethod {
  id: string;
  kind: 'card' | 'paypal' | 'bank_account' | 'stripe_customer';
  label: string;
  status: 'active' | 'removed';
  preferred: boolean;
  brand?: string;
  last4?: string;
  expMonth?: number;
  expYear?: number;
  email?: string;
  country?: string;
  /** A US bank account: `pending` until its micro-deposits are confirmed, then `verified` (or `failed`: saved again). */
  verification?: 'pending' | 'verified' | 'failed';
  /** A bank account saved in a shape the PSP no longer debits: its payments fail until it is saved again. */
  needsResaving?: true;
  /** A bank account its bank refused a debit from for good (closed, not found, debits not authorised…): it pays no more until saved again. */
  unusableReason?: BankAccountUnusableReason;
}

export type BankAccountUnusableReason =
  'account_closed' | 'no_account' | 'invalid_account_number' | 'debit_not_authorized' | 'account_frozen' | 'bank_account_restricted' | 'bank_ownership_changed';

export interface Wallet {
  personId: string;
  country: string;
  apps: string[];
  availableApps: string[];
  preferredMethodId?: string;
  paymentMethods: PaymentMethod[];
  pin: { set: boolean; lockedUntil?: string; blocked?: boolean };
  consents: { adMeasurement: { granted: boolean; source: 'default' | 'person'; updatedAt: string } };
}

export interface Passkey {
  passkeyId: string;
  deviceName: string;
  transports: string[];
  backedUp: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface AggregateRow {
  period: string;
  app?: string | null;
  country?: string | null;
  kind?: string;
  currency: string;
  count: number;
  sum: string;
  netSum: string;
}

/** Minor units as a string → "125.00 USD", without floating point. */
export function formatMoney(money: Money): string {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency: money.currency }).resolvedOptions().maximumFractionDigits ?? 2;
  const negative = money.amount.startsWith('-');
  const units = (negative ? money.amount.slice(1) : money.amount).padStart(digits + 1, '0');
  const major = units.slice(0, units.length - digits);
  const minor = digits > 0 ? `.${units.slice(units.length - digits)}` : '';
  return `${negative ? '−' : ''}${major.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${minor} ${money.currency}`;
}

/** "125.5" in a currency of 2 decimals → "12550"; undefined when it is not an amount. */
export function toMinorUnits(text: string, currency: string): string | undefined {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  const match = /^(\d{1,15})(?:\.(\d+))?$/.exec(text.trim());
  if (!match || (match[2] ?? '').length > digits) return undefined;
  const minor = `${match[1]}${(match[2] ?? '').padEnd(digits, '0')}`.replace(/^0+(?=\d)/, '');
  return minor === '0' ? undefined : minor;
}

export const label = (word: string): string => word.replace(/_/g, ' ');
