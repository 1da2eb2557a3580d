import { plainToInstance } from 'class-transformer';
import { Equals, IsEmail, IsIn, IsObject, IsOptional, IsString, Length, Matches, ValidateNested, validateSync } from 'class-validator';
import { Type } from 'class-transformer';
import { APPS, SUPPORT_REFUND_REASONS } from '@pay/contracts';
import type { SupportRefundReason } from '@pay/contracts';

const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;
const ID_MESSAGE = 'must be 1 to 100 of letters, digits, "_", "-", ":" and "."';

/** Development sign-in: whom the token is for. */
export class DevSignInRequest {
  @IsIn(['person', 'analyst', 'support'], { message: 'role must be person, analyst or support' })
  role!: 'person' | 'analyst' | 'support';

  @Matches(ID_PATTERN, { message: `sub ${ID_MESSAGE}` })
  sub!: string;
}

class ShopAmount {
  @Matches(/^[1-9][0-9]{0,17}$/, { message: 'amount.amount must be a positive whole number of minor units written as a string, e.g. "12500"' })
  amount!: string;

  @Matches(/^[A-Z]{3}$/, { message: 'amount.currency must be an ISO-4217 code such as USD' })
  currency!: string;
}

/** The development shop's purchase: what an app's checkout would send for the signed-in person. */
export class ShopPurchaseRequest {
  @IsIn([...APPS], { message: `app must be one of ${APPS.join(', ')}` })
  app!: string;

  @Matches(ID_PATTERN, { message: `merchantId ${ID_MESSAGE}` })
  merchantId!: string;

  @Matches(/^[A-Z]{2}$/, { message: 'country must be an ISO 3166-1 alpha-2 code such as US' })
  country!: string;

  @ValidateNested()
  @Type(() => ShopAmount)
  amount!: ShopAmount;

  @IsOptional()
  @Matches(/^[0-9a-f-]{36}$/, { message: 'paymentMethodId must be the id of a saved method' })
  paymentMethodId?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, { message: "stepUpProof must be the wallet's step-up proof (a compact JWS)" })
  stepUpProof?: string;

  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, { message: 'requestId must be a UUID (the Idempotency-Key of the purchase)' })
  requestId!: string;
}

/**
 * An agent's refund on the desk: the payment of the conversation and the exact amount the page
 * states (the hub approves exactly that), and why; the support service checks them against the
 * conversation.
 */
export class AgentRefundRequest {
  @Matches(ID_PATTERN, { message: `paymentId ${ID_MESSAGE}` })
  paymentId!: string;

  @IsObject({ message: 'amount must state the exact amount to refund: { "amount": minor units as a string, "currency" }' })
  @ValidateNested()
  @Type(() => ShopAmount)
  amount!: ShopAmount;

  @IsIn(SUPPORT_REFUND_REASONS, { message: `reason must be one of ${SUPPORT_REFUND_REASONS.join(', ')}` })
  reason!: SupportRefundReason;
}

/** Saving the card or PayPal account the PSP saved: only the person's name for it (the wallet checks it too). */
export class SaveMethodRequest {
  @IsOptional()
  @IsString()
  @Length(1, 40, { message: 'label must be 1 to 40 characters' })
  label?: string;
}

/**
 * What every bank account saved from the methods page carries: its holder, and the person's
 * acceptance of the debit mandate the page showed (`mandateTextVersion`, GET /bff/bank-mandate).
 * A US account linked at its bank (Financial Connections) carries nothing more. The subclasses
 * below inherit these checks (requests.spec.ts proves it).
 */
export class SaveBankMandateRequest extends SaveMethodRequest {
  @IsString()
  @Length(1, 70, { message: 'holderName must be the account holder, 1 to 70 characters' })
  holderName!: string;

  @IsString()
  @Length(1, 40)
  mandateTextVersion!: string;

  @Equals(true, { message: 'mandateAccepted must be true: a bank account is debited only under a mandate its holder accepted' })
  mandateAccepted!: boolean;
}

/** An IBAN saved from the methods page (SEPA), under the mandate the page showed. */
export class SaveBankAccountRequest extends SaveBankMandateRequest {
  @IsString()
  @Length(15, 42, { message: 'iban must be an IBAN, 15 to 42 characters with spaces' })
  iban!: string;

  /** SEPA requires the holder's e-mail at the PSP; the hub passes it on and keeps nothing. */
  @IsString({ message: "holderEmail must be the account holder's e-mail address" })
  @Length(3, 254, { message: "holderEmail must be the account holder's e-mail address" })
  @IsEmail({}, { message: "holderEmail must be the account holder's e-mail address" })
  holderEmail!: string;

  @IsOptional()
  @IsString()
  @Length(8, 11, { message: 'bic must be a BIC (8 or 11 characters)' })
  bic?: string;
}

/** A US bank account from the methods page (ACH): its numbers, under the debit authorisation the page showed (`?scheme=us_bank_account`). */
export class SaveUsBankAccountRequest extends SaveBankMandateRequest {
  @IsString()
  @Matches(/^\d{9}$/, { message: 'routingNumber must be the 9-digit ABA routing number' })
  routingNumber!: string;

  @IsString()
  @Matches(/^\d{4,17}$/, { message: 'accountNumber must be 4 to 17 digits' })
  accountNumber!: string;

  @IsIn(['checking', 'savings'], { message: 'accountType must be checking or savings' })
  accountType!: 'checking' | 'savings';
}

export class InvalidRequestError extends Error {
  constructor(readonly details: string[]) {
    super('the request is not valid');
  }
}

/** The body as `type`, or InvalidRequestError naming every problem; unknown fields are refused. */
export function validated<T extends object>(type: new () => T, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequestError(['the body must be a JSON object']);
  const value = plainToInstance(type, body);
  const errors = validateSync(value, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    const flat = (list: typeof errors, prefix = ''): string[] =>
      list.flatMap((error) => [
        ...Object.values(error.constraints ?? {}).map((message) => (message.startsWith('property ') ? `${prefix}${message}` : message)),
        ...flat(error.children ?? [], `${prefix}${error.property}.`),
      ]);
    // One field's checks may share a message (holderEmail's): each said once.
    throw new InvalidRequestError([...new Set(flat(errors))]);
  }
  return value;
}
