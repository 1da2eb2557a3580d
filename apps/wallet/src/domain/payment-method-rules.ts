import type { AppName, BankMandateAcceptance, CardBrand, PaymentInstrumentCredentials, PaymentMethodKind } from '@pay/contracts';
import { WalletError } from './wallet-error';

/** What a person sees of a method and what events may carry: never the secret part. */
export interface MethodDisplay {
  brand?: CardBrand;
  last4?: string;
  expMonth?: number;
  expYear?: number;
  country?: string;
}

export const MAX_ACTIVE_METHODS = 20;
export const LABEL_MAX_LENGTH = 40;

/** A card is refused once its expiry month is over. */
export function assertCardNotExpired(expMonth: number, expYear: number, now: Date): void {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() + 1;
  if (expYear < year || (expYear === year && expMonth < month)) {
    throw new WalletError('invalid', 'CARD_EXPIRED', `the card expired at the end of ${String(expMonth).padStart(2, '0')}/${expYear}`, { field: 'expYear' });
  }
}

export function assertRoomForAnotherMethod(activeMethods: number): void {
  if (activeMethods >= MAX_ACTIVE_METHODS) {
    throw new WalletError('conflict', 'TOO_MANY_PAYMENT_METHODS', `a wallet holds at most ${MAX_ACTIVE_METHODS} payment methods; remove one first`);
  }
}

/** Labels are trimmed, 1 to 40 characters, printable. */
export function normalizeLabel(label: string): string {
  const trimmed = label.trim().replace(/\s+/g, ' ');
  // eslint-disable-next-line no-control-regex
  if (trimmed.length === 0 || trimmed.length > LABEL_MAX_LENGTH || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new WalletError('invalid', 'LABEL_INVALID', `a label is 1 to ${LABEL_MAX_LENGTH} printable characters`, { field: 'label' });
  }
  return trimmed;
}

const BRAND_NAMES: Record<CardBrand, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  jcb: 'JCB',
  unionpay: 'UnionPay',
  diners: 'Diners Club',
  other: 'Card',
};

/** The label a method gets when the person gives none. */
export function defaultLabel(kind: PaymentMethodKind, display: MethodDisplay): string {
  switch (kind) {
    case 'card':
      return `${BRAND_NAMES[display.brand ?? 'other']} •••• ${display.last4 ?? ''}`.trim();
    case 'bank_account':
      return `Bank account •••• ${display.last4 ?? ''}`.trim();
    case 'paypal':
      return 'PayPal';
    case 'stripe_customer':
      return 'Saved with Stripe';
  }
}

/**
 * A bank account kept in a shape the PSP refuses to debit, which its owner must save again (the
 * payment fails before the PSP: `bank_mandate_missing` or `bank_account_needs_resaving`, ADR 0011):
 * saved before mandate acceptances were recorded, or an IBAN saved before the PSP held bank
 * accounts (no PaymentMethod of its own, so no holder e-mail for the SEPA debit).
 */
export function needsResaving(kind: PaymentMethodKind, secret: Readonly<Record<string, string>>): boolean {
  if (kind !== 'bank_account' || (secret.pspToken && secret.customer)) return false;
  return !secret.mandateTextVersion || secret.iban !== undefined;
}

/** The first method becomes the preferred one; later ones do not take its place. */
export function becomesPreferred(currentPreferred: string | null): boolean {
  return currentPreferred === null;
}

/**
 * What a PSP needs to charge a saved method, in the names payment-orchestration reads
 * (`pspToken`, `customer`, `vaultToken`, a bank account's fields: the PaymentInstrument contract), from what the vault keeps. A
 * Stripe customer is kept as `customerId` (+ `paymentMethodId`): it is charged as `customer` with
 * that PaymentMethod as `pspToken`. Contact data (a PayPal e-mail) never leaves the wallet.
 */
export function chargeCredentials(kind: PaymentMethodKind, secret: Readonly<Record<string, string>>): PaymentInstrumentCredentials {
  const { email: _email, bankSetupId: _setup, mandateTextVersion, mandateIpAddress, mandateUserAgent, mandateAcceptedAt, mandateApp, ...credentials } = secret;
  // The vault holds what the add-method requests validated, under the contract's names; a mandate's acceptance flat, handed over whole.
  if (mandateTextVersion && mandateIpAddress && mandateUserAgent && mandateAcceptedAt) {
    const mandate: BankMandateAcceptance = {
      textVersion: mandateTextVersion,
      ipAddress: mandateIpAddress,
      userAgent: mandateUserAgent,
      acceptedAt: mandateAcceptedAt,
      ...(mandateApp ? { app: mandateApp as AppName } : {}),
    };
    return { ...credentials, mandate };
  }
  if (kind !== 'stripe_customer') return credentials;
  const { customerId, paymentMethodId, ...rest } = credentials;
  return { ...rest, ...(customerId ? { customer: customerId } : {}), ...(paymentMethodId ? { pspToken: paymentMethodId } : {}) };
}

/** What tells one bank account from another, as the wallet holds it (sealed) with its display's last four. */
export interface BankAccountIdentity {
  iban?: string;
  routingNumber?: string;
  accountNumber?: string;
  last4?: string;
}

/**
 * Whether a bank account saved again is the one already saved: the same IBAN; or the same routing
 * number and account number; or, for an account linked at its bank (the bank tells the wallet only
 * its last four digits), the same routing number and last four.
 */
export function isSameBankAccount(saved: BankAccountIdentity, again: BankAccountIdentity): boolean {
  if (saved.iban !== undefined || again.iban !== undefined) return saved.iban !== undefined && saved.iban === again.iban;
  if (saved.routingNumber === undefined || saved.routingNumber !== again.routingNumber) return false;
  if (saved.accountNumber !== undefined && again.accountNumber !== undefined) return saved.accountNumber === again.accountNumber;
  return saved.last4 !== undefined && saved.last4 === again.last4;
}
