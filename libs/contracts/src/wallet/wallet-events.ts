// class-transformer's @Type reads design-time metadata: the polyfill must load first.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO31661Alpha2,
  IsISO8601,
  IsOptional,
  IsUUID,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { defineEvent } from '../envelope/event-registry';
import { IsOpaqueId } from '../envelope/ids';
import { IsMoney, Money } from '../envelope/money';
import { BANK_ACCOUNT_UNUSABLE_CODES } from '../payments/payment-failure-codes';
import type { BankAccountUnusableCode } from '../payments/payment-failure-codes';
import { APPS } from '../payments/purchase-requested';
import { Topics } from '../topics';

/**
 * Events of `wallet.events.v1`: every change to a person's wallet, keyed by person id, with the
 * envelope's `sequence` counting that person's changes 1, 2, 3 … They never carry a secret or
 * free text: no card number, IBAN, PIN, e-mail, phone, holder name or label — only ids, flags,
 * last4 and what a receipt shows (brand, expiry, country).
 */
export const WALLET_EVENT_SUBJECT_IS_PERSON = true;

export const PAYMENT_METHOD_KINDS = ['card', 'paypal', 'bank_account', 'stripe_customer'] as const;
export type PaymentMethodKind = (typeof PAYMENT_METHOD_KINDS)[number];

export const CARD_BRANDS = ['visa', 'mastercard', 'amex', 'discover', 'jcb', 'unionpay', 'diners', 'other'] as const;
export type CardBrand = (typeof CARD_BRANDS)[number];

export const CONSENT_PURPOSES = ['ad-measurement'] as const;
export const CONSENT_SOURCES = ['default', 'person'] as const;
export const STEP_UP_METHOD_NAMES = ['pin', 'biometric'] as const;

/**
 * `person:<id>`, `service:<app id>` or `system:<component>`: who made the change; a person's change
 * made through an app's backend with the person's delegated token names that backend too:
 * `person:<id> via <backend>` (RFC 8693 `act`).
 */
const ACTOR = /^(person|service|operator|system):[A-Za-z0-9_.:-]{1,100}( via [A-Za-z0-9_.:-]{1,100})?$/;
const APP_NAMES = APPS as unknown as string[];

/** Fields every wallet event carries. */
export class WalletEventData {
  @IsOpaqueId()
  personId!: string;

  @Matches(ACTOR, { message: 'actor must be <role>:<id>, e.g. person:p-1 or service:instagram-shop, or person:<id> via <backend>' })
  actor!: string;
}

export class WalletOpened extends WalletEventData {
  @IsISO31661Alpha2()
  country!: string;

  /** Apps where Pay is active for the person (none at first). */
  @IsArray()
  @ArrayUnique()
  @IsIn(APP_NAMES, { each: true })
  apps!: string[];
}

export class WalletAppsChanged extends WalletEventData {
  /** The whole current set, so a consumer needs no earlier event to know it. */
  @IsArray()
  @ArrayUnique()
  @IsIn(APP_NAMES, { each: true })
  apps!: string[];

  @IsArray()
  @IsIn(APP_NAMES, { each: true })
  enabled!: string[];

  @IsArray()
  @IsIn(APP_NAMES, { each: true })
  disabled!: string[];
}

/** What a receipt may show of a method. */
export class PaymentMethodDisplay {
  @IsOptional()
  @IsIn(CARD_BRANDS)
  brand?: CardBrand;

  @IsOptional()
  @Matches(/^[0-9A-Z]{4}$/, { message: 'last4 must be the last four characters (digits or capital letters)' })
  last4?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(12)
  expMonth?: number;

  @IsOptional()
  @IsInt()
  @Min(2000)
  @Max(2100)
  expYear?: number;

  @IsOptional()
  @IsISO31661Alpha2()
  country?: string;
}

export class PaymentMethodAdded extends WalletEventData {
  @IsUUID()
  methodId!: string;

  @IsIn(PAYMENT_METHOD_KINDS)
  kind!: PaymentMethodKind;

  @ValidateNested()
  @Type(() => PaymentMethodDisplay)
  display!: PaymentMethodDisplay;

  /** The first method becomes the preferred one. */
  @IsBoolean()
  preferred!: boolean;
}

/** The label changed; the label itself is free text and stays in the wallet. */
export class PaymentMethodRenamed extends WalletEventData {
  @IsUUID()
  methodId!: string;
}

export class PaymentMethodMadePreferred extends WalletEventData {
  @IsUUID()
  methodId!: string;

  @IsOptional()
  @IsUUID()
  previousMethodId?: string;
}

/** The method can no longer pay; its history stays. */
export class PaymentMethodRemoved extends WalletEventData {
  @IsUUID()
  methodId!: string;

  /** It was the preferred method: the wallet now has none until the person picks one. */
  @IsBoolean()
  wasPreferred!: boolean;
}

/**
 * The payer's bank refused a debit from this saved bank account for good, late (`payments.payment.failed`)
 * or after it settled (the return, `payments.payment.dispute-opened`): it stays listed, active, and
 * pays no more (`unusableReason` of the wallet's view). Told once per account; saving the same account
 * again replaces it (removed, then a new method added).
 */
export class PaymentMethodMarkedUnusable extends WalletEventData {
  @IsUUID()
  methodId!: string;

  /** The bank's answer (BANK_ACCOUNT_UNUSABLE_CODES). */
  @IsIn(BANK_ACCOUNT_UNUSABLE_CODES)
  reason!: BankAccountUnusableCode;

  /** The payment whose debit the bank refused or returned. */
  @IsOpaqueId()
  paymentId!: string;
}

export class PinSet extends WalletEventData {}

export class PinChanged extends WalletEventData {}

export class PinAttemptFailed extends WalletEventData {
  @IsInt()
  @Min(1)
  failedAttempts!: number;

  @IsInt()
  @Min(0)
  remainingAttempts!: number;
}

export class PinLocked extends WalletEventData {
  @IsISO8601({ strict: true })
  lockedUntil!: string;
}

/** Wrong PINs after the last timed lock: PIN use is blocked until the person is re-verified. */
export class PinBlocked extends WalletEventData {
  @IsInt()
  @Min(1)
  lockCount!: number;
}

/** An operator unblocked PIN use after re-verifying the person; `caseReference` names the support case (no free text). */
export class PinUnblocked extends WalletEventData {
  @Matches(/^[A-Za-z0-9._:-]{3,100}$/)
  caseReference!: string;
}

export class StepUpGranted extends WalletEventData {
  @IsUUID()
  proofId!: string;

  @IsIn(STEP_UP_METHOD_NAMES)
  method!: (typeof STEP_UP_METHOD_NAMES)[number];

  @IsMoney()
  ceiling!: Money;

  @IsISO8601({ strict: true })
  expiresAt!: string;
}

/** A passkey (WebAuthn credential) was registered for biometric step-up; its device name (free text) does not travel. */
export class PasskeyRegistered extends WalletEventData {
  @IsUUID()
  passkeyId!: string;

  /** Synced between the person's devices (backed up) rather than bound to one. */
  @IsBoolean()
  backedUp!: boolean;
}

export class PasskeyRemoved extends WalletEventData {
  @IsUUID()
  passkeyId!: string;
}

export const PASSKEY_REFUSAL_REASONS = [
  'challenge-invalid',
  'ceiling-mismatch',
  'unknown-credential',
  'user-not-verified',
  'counter-regressed',
  'invalid-response',
] as const;

/** A passkey confirmation was refused (fraud signal, like a wrong PIN); `counter-regressed` hints at a cloned authenticator. */
export class PasskeyAssertionRefused extends WalletEventData {
  @IsIn(PASSKEY_REFUSAL_REASONS)
  reason!: (typeof PASSKEY_REFUSAL_REASONS)[number];
}

export class ConsentChanged extends WalletEventData {
  @IsIn(CONSENT_PURPOSES)
  purpose!: (typeof CONSENT_PURPOSES)[number];

  @IsBoolean()
  granted!: boolean;

  /** `default`: the country's default when the wallet opened; `person`: the person's own choice. */
  @IsIn(CONSENT_SOURCES)
  source!: (typeof CONSENT_SOURCES)[number];

  @IsISO31661Alpha2()
  country!: string;
}

/** Contact details changed; only whether each is present travels. */
export class ContactChanged extends WalletEventData {
  @IsBoolean()
  hasEmail!: boolean;

  @IsBoolean()
  hasPhone!: boolean;
}

const wallet = <T extends object>(type: string, dataClass: new () => T, description: string) =>
  defineEvent({ type, version: 1, topic: Topics.walletEvents, dataClass, description });

export const WalletOpenedV1 = wallet('wallet.wallet.opened', WalletOpened, 'A person opened their wallet in a country where Pay is live.');
export const WalletAppsChangedV1 = wallet('wallet.apps.changed', WalletAppsChanged, 'The apps in which Pay is active changed; carries the whole set.');
export const PaymentMethodAddedV1 = wallet('wallet.payment-method.added', PaymentMethodAdded, 'A payment method was saved (display data only).');
export const PaymentMethodRenamedV1 = wallet('wallet.payment-method.renamed', PaymentMethodRenamed, 'A payment method got a new label.');
export const PaymentMethodMadePreferredV1 = wallet('wallet.payment-method.made-preferred', PaymentMethodMadePreferred, 'The preferred payment method changed.');
export const PaymentMethodRemovedV1 = wallet('wallet.payment-method.removed', PaymentMethodRemoved, 'A payment method was removed and can no longer pay.');
export const PaymentMethodMarkedUnusableV1 = wallet(
  'wallet.payment-method.marked-unusable',
  PaymentMethodMarkedUnusable,
  "The payer's bank refused or returned a debit from this bank account for good (closed, not found, mandate revoked…): it pays no more until saved again.",
);
export const PinSetV1 = wallet('wallet.pin.set', PinSet, 'The person set a payment PIN.');
export const PinChangedV1 = wallet('wallet.pin.changed', PinChanged, 'The person changed their payment PIN.');
export const PinAttemptFailedV1 = wallet('wallet.pin.attempt-failed', PinAttemptFailed, 'A wrong PIN was entered (fraud signal).');
export const PinLockedV1 = wallet('wallet.pin.locked', PinLocked, 'Too many wrong PINs: PIN use is locked until the given time.');
export const PinBlockedV1 = wallet('wallet.pin.blocked', PinBlocked, 'Wrong PINs after repeated locks: PIN use is blocked until the person is re-verified.');
export const PinUnblockedV1 = wallet('wallet.pin.unblocked', PinUnblocked, 'An operator unblocked PIN use after re-verifying the person (audit).');
export const StepUpGrantedV1 = wallet('wallet.step-up.granted', StepUpGranted, 'A step-up proof was issued (PIN or biometric) up to a ceiling.');
export const PasskeyRegisteredV1 = wallet('wallet.passkey.registered', PasskeyRegistered, 'The person registered a passkey for biometric step-up.');
export const PasskeyRemovedV1 = wallet('wallet.passkey.removed', PasskeyRemoved, 'The person removed a passkey: it confirms nothing from now on.');
export const PasskeyAssertionRefusedV1 = wallet(
  'wallet.passkey.assertion-refused',
  PasskeyAssertionRefused,
  'A payment confirmation with a passkey was refused, with the reason (fraud signal).',
);
export const ConsentChangedV1 = wallet('wallet.consent.changed', ConsentChanged, "The person's consent to a use of their payment data changed.");
export const ContactChangedV1 = wallet('wallet.contact.changed', ContactChanged, "The person's contact details changed (presence flags only).");

export const WALLET_EVENTS = [
  WalletOpenedV1,
  WalletAppsChangedV1,
  PaymentMethodAddedV1,
  PaymentMethodRenamedV1,
  PaymentMethodMadePreferredV1,
  PaymentMethodRemovedV1,
  PaymentMethodMarkedUnusableV1,
  PinSetV1,
  PinChangedV1,
  PinAttemptFailedV1,
  PinLockedV1,
  PinBlockedV1,
  PinUnblockedV1,
  StepUpGrantedV1,
  PasskeyRegisteredV1,
  PasskeyRemovedV1,
  PasskeyAssertionRefusedV1,
  ConsentChangedV1,
  ContactChangedV1,
] as const;
