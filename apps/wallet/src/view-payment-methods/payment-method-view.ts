import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { BankAccountUnusableCode, CardBrand, PaymentMethodKind } from '@pay/contracts';
import { BANK_ACCOUNT_UNUSABLE_CODES, CARD_BRANDS, PAYMENT_METHOD_KINDS } from '@pay/contracts';
import type { MethodDisplay } from '../domain/payment-method-rules';

export interface PaymentMethodRow {
  id: string;
  person_id: string;
  kind: PaymentMethodKind;
  label: string;
  display: MethodDisplay;
  secret: string | null;
  status: 'active' | 'removed';
  created_at: Date;
  removed_at: Date | null;
  /** A US bank account's micro-deposit verification; null when none is needed. */
  verification: BankAccountVerificationStatus | null;
  /** Why the payer's bank will not be debited from this account again; null while it may be. */
  unusable_reason: BankAccountUnusableCode | null;
}

export const BANK_ACCOUNT_VERIFICATION_STATUSES = ['pending', 'verified', 'failed'] as const;
export type BankAccountVerificationStatus = (typeof BANK_ACCOUNT_VERIFICATION_STATUSES)[number];

/** A saved method as its owner sees it: what identifies it, never what would let anyone pay with it. */
export class PaymentMethodView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: PAYMENT_METHOD_KINDS })
  kind!: PaymentMethodKind;

  @ApiProperty({ example: 'Visa •••• 4242' })
  label!: string;

  @ApiProperty({ enum: ['active', 'removed'], description: 'A removed method can no longer pay; it stays for history.' })
  status!: 'active' | 'removed';

  @ApiProperty()
  preferred!: boolean;

  @ApiPropertyOptional({ enum: CARD_BRANDS })
  brand?: CardBrand;

  @ApiPropertyOptional({ example: '4242', description: 'Last four of the card number or IBAN.' })
  last4?: string;

  @ApiPropertyOptional({ example: 12 })
  expMonth?: number;

  @ApiPropertyOptional({ example: 2030 })
  expYear?: number;

  @ApiPropertyOptional({ example: 'DE', description: "Issuing country of the card, or the IBAN's country." })
  country?: string;

  @ApiPropertyOptional({ example: 'a•••@example.com', description: 'PayPal account, masked.' })
  email?: string;

  @ApiPropertyOptional({
    enum: BANK_ACCOUNT_VERIFICATION_STATUSES,
    description:
      'A US bank account: `pending` until the micro-deposits sent to it are verified (`POST …/payment-methods/{methodId}/microdeposits`), and it cannot pay before; `verified`; `failed` after too many wrong tries (save the account again). Absent for methods that need no verification.',
  })
  verification?: BankAccountVerificationStatus;

  @ApiPropertyOptional({
    enum: [true],
    description:
      'A bank account kept in a shape the payment provider no longer debits (saved before mandate acceptances were recorded, or an IBAN saved before the provider held bank accounts, without the holder e-mail a SEPA debit needs): its payments fail `bank_mandate_missing` or `bank_account_needs_resaving` before reaching the provider. Remove it and save it again. Absent otherwise.',
  })
  needsResaving?: true;

  @ApiPropertyOptional({
    enum: BANK_ACCOUNT_UNUSABLE_CODES,
    description:
      "A bank account the payer's bank refused or returned a debit from for good (closed, not found, debits not authorised…): it can no longer pay, and its payments fail `bank_account_unusable` before reaching the provider. Saving the same account again (a new mandate) replaces it: this one is removed and the new one takes its place, preferred if it was. Absent while the account may be debited (a debit refused for insufficient funds leaves it usable).",
  })
  unusableReason?: BankAccountUnusableCode;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiPropertyOptional({ format: 'date-time' })
  removedAt?: string;
}

export function toPaymentMethodView(row: PaymentMethodRow, preferredId: string | null, maskedEmail?: string, needsResaving = false): PaymentMethodView {
  return {
    id: row.id,
    kind: row.kind,
    label: row.label,
    status: row.status,
    preferred: row.id === preferredId && row.status === 'active',
    ...row.display,
    ...(maskedEmail ? { email: maskedEmail } : {}),
    ...(row.verification ? { verification: row.verification } : {}),
    ...(needsResaving ? { needsResaving: true as const } : {}),
    ...(row.unusable_reason ? { unusableReason: row.unusable_reason } : {}),
    createdAt: row.created_at.toISOString(),
    ...(row.removed_at ? { removedAt: row.removed_at.toISOString() } : {}),
  };
}
