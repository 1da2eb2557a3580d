import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { BankAccountType, CardBrand } from '@pay/contracts';
import { BANK_ACCOUNT_TYPES, CARD_BRANDS } from '@pay/contracts';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsInt, IsISO31661Alpha2, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';

/**
 * Stripe's ids: a prefix, then letters and digits, in `_`-separated words for the test ones
 * (`pm_card_visa`, `tok_visa_debit`, `tok_us`). A card number never fits a token's shape on its
 * own, and one hidden in a token (`tok_4242…`) is refused by RefuseCardNumbersInterceptor.
 */
const PSP_CARD_TOKEN = /^(pm|tok|card|src)_[A-Za-z0-9]{2,}(_[A-Za-z0-9]+)*$/;
const STRIPE_PAYMENT_METHOD_ID = /^pm_[A-Za-z0-9]{2,}(_[A-Za-z0-9]+)*$/;
const STRIPE_CUSTOMER_ID = /^cus_[A-Za-z0-9]{6,64}$/;

const trim = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

/**
 * A bank account's holder, as the bank knows them: trimmed, 1 to 70 letters, spaces, apostrophes,
 * dots, commas and hyphens. (Listed in the order stacked decorators are applied: bottom first.)
 */
function IsHolderName(): PropertyDecorator {
  return applyDecorators(
    Matches(/^[\p{L}\p{M}' .,-]+$/u, { message: 'holderName must be a name: letters, spaces, apostrophes, dots, commas and hyphens' }),
    Length(1, 70),
    IsString(),
    Transform(trim),
    ApiProperty({ example: 'Ana Maria Silva', description: 'Account holder; stored encrypted.' }),
  );
}

class WithLabel {
  @ApiPropertyOptional({ example: 'Work card', maxLength: 40, description: 'Free text; anything that looks like a card number is refused.' })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  label?: string;
}

/**
 * A card, as the PSP tokenised it on the person's device. The card number and CVC never reach
 * us: there is no field for them, and any field holding something card-number-like is refused.
 */
export class AddCardRequest extends WithLabel {
  @ApiProperty({
    example: 'pm_1QdE2xLkdIwHu7ix0g1N2abc',
    description: "The PSP's token for the card: a Stripe PaymentMethod, token, card or source id, Stripe's test ones included (pm_card_visa, tok_visa).",
  })
  @Length(5, 128)
  @Matches(PSP_CARD_TOKEN, { message: 'pspToken must be a PSP card token such as pm_…, tok_…, card_… or src_… (letters and digits in _-separated words)' })
  pspToken!: string;

  @ApiPropertyOptional({
    example: 'cus_NffrFeUfNV2Hib',
    description:
      'The PSP customer the PaymentMethod is attached to (Stripe: a SetupIntent made with `customer`). Each payment then names both, off-session; a PaymentMethod on no customer pays once only.',
  })
  @IsOptional()
  @Matches(STRIPE_CUSTOMER_ID, { message: 'customerId must be a Stripe customer id (cus_…)' })
  customerId?: string;

  @ApiProperty({ enum: CARD_BRANDS })
  @IsIn(CARD_BRANDS, { message: `brand must be one of ${CARD_BRANDS.join(', ')}` })
  brand!: CardBrand;

  @ApiProperty({ example: '4242' })
  @Matches(/^\d{4}$/, { message: 'last4 must be the last four digits of the card number' })
  last4!: string;

  @ApiProperty({ minimum: 1, maximum: 12, example: 12 })
  @IsInt()
  @Min(1)
  @Max(12)
  expMonth!: number;

  @ApiProperty({ minimum: 2000, maximum: 2100, example: 2030 })
  @IsInt()
  @Min(2000)
  @Max(2100)
  expYear!: number;

  @ApiProperty({ example: 'US', description: 'Issuing country.' })
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an upper-case ISO 3166-1 alpha-2 code' })
  @IsISO31661Alpha2()
  country!: string;
}

export class AddPaypalAccountRequest extends WithLabel {
  @ApiProperty({ example: 'QYR5Z8XDVJNXQ', description: 'PayPal payer id.' })
  @Matches(/^[A-Z0-9]{13}$/, { message: 'payerId must be a PayPal payer id: 13 capital letters and digits' })
  payerId!: string;

  @ApiProperty({ example: 'ana@example.com', description: "The PayPal account's e-mail; stored encrypted, shown masked." })
  @Transform(trim)
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @Length(3, 254)
  email!: string;

  @ApiPropertyOptional({ description: 'PayPal vault or billing agreement token.' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{6,128}$/, { message: 'vaultToken must be 6 to 128 of letters, digits, "_" and "-"' })
  vaultToken?: string;
}

/**
 * A bank account's request carries no mandate acceptance: its evidence (the text's version, the
 * payer's address and user agent, when) comes only from the service that showed the mandate, in the
 * `Mandate-Attestation` header (the Pay Hub's; docs/security.md, "Debit mandates"). A `mandate`
 * field in the body is refused like any unknown field.
 */
export class AddBankAccountRequest extends WithLabel {
  @ApiProperty({ example: 'DE89 3704 0044 0532 0130 00', description: 'Stored encrypted; shown as its last four.' })
  @IsString()
  @Length(15, 42)
  iban!: string;

  @IsHolderName()
  holderName!: string;

  @ApiProperty({
    example: 'ana.silva@example.org',
    description:
      "The account holder's e-mail address, which SEPA Direct Debit requires (Stripe sends the debit notices to it): passed to the PSP with the IBAN when it is saved, not kept by the wallet.",
  })
  @Transform(trim)
  @IsEmail({}, { message: 'holderEmail must be an e-mail address' })
  @Length(3, 254, { message: 'holderEmail must be 3 to 254 characters' })
  holderEmail!: string;

  @ApiPropertyOptional({ example: 'COBADEFFXXX' })
  @IsOptional()
  @Matches(/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/, { message: 'bic must be a BIC (8 or 11 characters)' })
  bic?: string;
}

/**
 * A US bank account, debited by ACH under the person's mandate (Stripe's us_bank_account): given by
 * its numbers (verified by micro-deposits afterwards), or linked at its bank through the PSP's
 * Financial Connections session the person completed (verified at once). Exactly one of the two.
 */
export class AddUsBankAccountRequest extends WithLabel {
  @ApiPropertyOptional({
    example: 'fcsess_1QdE2xLkdIwHu7ix',
    description: 'The Financial Connections session in which the person linked the account at their bank (instant verification); instead of the numbers.',
  })
  @IsOptional()
  @Matches(/^fcsess_[A-Za-z0-9]{6,64}$/, { message: 'financialConnectionsSession must be a Financial Connections session id (fcsess_…)' })
  financialConnectionsSession?: string;

  @ApiPropertyOptional({ example: '110000000', description: 'ABA routing number; checked by its check digit. Required without financialConnectionsSession.' })
  @ValidateIf((request: AddUsBankAccountRequest) => request.financialConnectionsSession === undefined || request.routingNumber !== undefined)
  @Matches(/^\d{9}$/, { message: 'routingNumber must be the nine digits of an ABA routing number' })
  routingNumber?: string;

  @ApiPropertyOptional({ example: '000123456789', description: 'Stored encrypted; shown as its last four. Required without financialConnectionsSession.' })
  @ValidateIf((request: AddUsBankAccountRequest) => request.financialConnectionsSession === undefined || request.accountNumber !== undefined)
  @Matches(/^\d{4,17}$/, { message: 'accountNumber must be 4 to 17 digits' })
  accountNumber?: string;

  @ApiPropertyOptional({ enum: BANK_ACCOUNT_TYPES, description: 'Required without financialConnectionsSession (the bank says it otherwise).' })
  @ValidateIf((request: AddUsBankAccountRequest) => request.financialConnectionsSession === undefined || request.accountType !== undefined)
  @IsIn(BANK_ACCOUNT_TYPES, { message: `accountType must be one of ${BANK_ACCOUNT_TYPES.join(', ')}` })
  accountType?: BankAccountType;

  @IsHolderName()
  holderName!: string;
}

export class AddStripeCustomerRequest extends WithLabel {
  @ApiProperty({ example: 'cus_NffrFeUfNV2Hib' })
  @Matches(STRIPE_CUSTOMER_ID, { message: 'customerId must be a Stripe customer id (cus_…)' })
  customerId!: string;

  @ApiPropertyOptional({ example: 'pm_1QdE2xLkdIwHu7ix0g1N2abc', description: "The customer's payment method to charge; else their default." })
  @IsOptional()
  @Length(5, 128)
  @Matches(STRIPE_PAYMENT_METHOD_ID, { message: 'paymentMethodId must be a Stripe PaymentMethod id (pm_…, e.g. pm_card_visa in test mode)' })
  paymentMethodId?: string;
}
