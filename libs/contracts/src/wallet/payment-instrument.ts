// class-transformer's @Type reads design-time metadata: the polyfill must load first.
import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsIP, IsISO8601, IsObject, IsOptional, IsString, IsUUID, Length, Matches, validateSync, ValidateNested } from 'class-validator';
import { APPS } from '../payments/purchase-requested';
import type { AppName } from '../payments/purchase-requested';
import { flattenValidationErrors } from '../envelope/event-registry';
import { provenValid } from '../envelope/validation-fast-path';
import type { PaymentMethodKind } from './wallet-events';
import { PAYMENT_METHOD_KINDS } from './wallet-events';

/**
 * The wallet's answer to `GET /v1/wallets/:personId/payment-instruments/:methodId?app=` (and
 * `/preferred`): what a PSP needs to charge a saved method, released to payment-orchestration
 * alone (scope `instruments:read`). The wallet writes it, orchestration validates what it reads
 * with the same class: one name and one shape on both sides. Contact data (a PayPal e-mail)
 * never leaves the wallet.
 */
export const BANK_ACCOUNT_TYPES = ['checking', 'savings'] as const;
export type BankAccountType = (typeof BANK_ACCOUNT_TYPES)[number];

/**
 * The payer's acceptance of a bank-debit mandate (SEPA Direct Debit, ACH), recorded when the
 * account is saved: which version of the mandate text they accepted, when, and from where (the
 * app, the device's IP address and user agent, as the PSP requires for an online acceptance).
 * Stored sealed with the account; handed to the PSP with each debit.
 */
export class BankMandateAcceptance {
  /** The mandate text the payer was shown, by version (e.g. `sepa-core-2026-01`). */
  @Matches(/^[A-Za-z0-9._-]{1,40}$/, { message: 'mandate.textVersion must be 1 to 40 of letters, digits, ".", "_" and "-"' })
  textVersion!: string;

  @IsIP(undefined, { message: "mandate.ipAddress must be the payer's IPv4 or IPv6 address" })
  ipAddress!: string;

  @IsString()
  @Length(1, 512, { message: "mandate.userAgent must be the payer's browser or app user agent, 1 to 512 characters" })
  userAgent!: string;

  /** The app the payer accepted in, when it was one of the apps (absent: the Pay Hub or an API client). */
  @IsOptional()
  @IsIn(APPS, { message: `mandate.app must be one of ${APPS.join(', ')}` })
  app?: AppName;

  /** When the wallet recorded the acceptance (its clock, not the caller's). */
  @IsISO8601({ strict: true })
  acceptedAt!: string;
}

export class PaymentInstrumentCredentials {
  /** A card's (or a Stripe customer's) PSP payment method: `pm_…`, `tok_…`, `card_…`, `src_…`. */
  @IsOptional()
  @Matches(/^(pm|tok|card|src)_[A-Za-z0-9_]{2,128}$/, { message: 'credentials.pspToken must be a PSP token (pm_…, tok_…, card_…, src_…)' })
  pspToken?: string;

  /** The Stripe customer the method is saved on. */
  @IsOptional()
  @Matches(/^cus_[A-Za-z0-9]{6,64}$/, { message: 'credentials.customer must be a Stripe customer id (cus_…)' })
  customer?: string;

  /** A PayPal account's vault id (Vault v3 payment token), which PayPal charges. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{6,128}$/, { message: 'credentials.vaultToken must be 6 to 128 of letters, digits, "_" and "-"' })
  vaultToken?: string;

  /** A PayPal payer id. */
  @IsOptional()
  @Matches(/^[A-Z0-9]{13}$/, { message: 'credentials.payerId must be a PayPal payer id' })
  payerId?: string;

  /** A SEPA bank account (debited under a mandate): the IBAN, normalised (no spaces, upper case). */
  @IsOptional()
  @Matches(/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/, { message: 'credentials.iban must be an IBAN without spaces' })
  iban?: string;

  @IsOptional()
  @Matches(/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/, { message: 'credentials.bic must be a BIC' })
  bic?: string;

  /** A US bank account (ACH): the ABA routing number. */
  @IsOptional()
  @Matches(/^\d{9}$/, { message: 'credentials.routingNumber must be an ABA routing number (9 digits)' })
  routingNumber?: string;

  @IsOptional()
  @Matches(/^\d{4,17}$/, { message: 'credentials.accountNumber must be 4 to 17 digits' })
  accountNumber?: string;

  @IsOptional()
  @IsIn(BANK_ACCOUNT_TYPES, { message: `credentials.accountType must be one of ${BANK_ACCOUNT_TYPES.join(', ')}` })
  accountType?: BankAccountType;

  /** A bank account's holder, as the mandate names them. */
  @IsOptional()
  @Matches(/^[\p{L}\p{M}' .,-]{1,70}$/u, { message: 'credentials.holderName must be a name' })
  holderName?: string;

  /** A bank account's mandate, as the payer accepted it (absent for accounts saved before acceptances were recorded). */
  @IsOptional()
  @ValidateNested()
  @Type(() => BankMandateAcceptance)
  mandate?: BankMandateAcceptance;
}

export class PaymentInstrument {
  @IsUUID()
  methodId!: string;

  @IsIn(PAYMENT_METHOD_KINDS, { message: `kind must be one of ${PAYMENT_METHOD_KINDS.join(', ')}` })
  kind!: PaymentMethodKind;

  @IsObject()
  @ValidateNested()
  @Type(() => PaymentInstrumentCredentials)
  credentials!: PaymentInstrumentCredentials;
}

const INSTRUMENT_VALIDATION = { whitelist: true, forbidUnknownValues: true } as const;

/**
 * The common case of readPaymentInstrument: the instance, stripped as class-validator strips it,
 * when class-validator would accept it (provenValid); otherwise undefined, and the body is read
 * again from the start by class-validator, which names the problems.
 */
function readValidPaymentInstrument(body: object): PaymentInstrument | undefined {
  try {
    const instrument = plainToInstance(PaymentInstrument, body);
    return provenValid(instrument, INSTRUMENT_VALIDATION) ? instrument : undefined;
  } catch {
    return undefined; // a constraint that throws throws again, where class-validator meets it
  }
}

/** Reads a wallet answer as a PaymentInstrument; throws naming every field that is wrong. */
export function readPaymentInstrument(body: unknown): PaymentInstrument {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('a payment instrument is a JSON object');
  return readValidPaymentInstrument(body) ?? readPaymentInstrumentWithClassValidator(body);
}

/** readPaymentInstrument without its fast path: class-validator decides and names every problem (tests compare the two). */
export function readPaymentInstrumentWithClassValidator(body: unknown): PaymentInstrument {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('a payment instrument is a JSON object');
  const instrument = plainToInstance(PaymentInstrument, body);
  const errors = flattenValidationErrors(validateSync(instrument, INSTRUMENT_VALIDATION));
  if (errors.length > 0) throw new Error(`not a payment instrument: ${errors.join('; ')}`);
  return instrument;
}
