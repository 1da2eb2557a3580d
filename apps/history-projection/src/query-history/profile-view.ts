import { ApiProperty } from '@nestjs/swagger';
import { BANK_ACCOUNT_UNUSABLE_CODES } from '@pay/contracts';
import type { MethodRow } from '../project-events/wallet-profile';

export class SavedMethodView {
  @ApiProperty()
  id!: string;

  @ApiProperty({ nullable: true, type: String, enum: ['card', 'paypal', 'bank_account', 'stripe_customer'] })
  type!: string | null;

  @ApiProperty({ nullable: true, type: String })
  brand!: string | null;

  @ApiProperty({ nullable: true, type: String })
  last4!: string | null;

  @ApiProperty({ nullable: true, type: Number })
  expMonth!: number | null;

  @ApiProperty({ nullable: true, type: Number })
  expYear!: number | null;

  @ApiProperty()
  preferred!: boolean;

  @ApiProperty({ nullable: true, type: String, description: 'When it was removed; its history stays.' })
  removedAt!: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    enum: BANK_ACCOUNT_UNUSABLE_CODES,
    description:
      "A bank account the payer's bank refused or returned a debit from for good (the wallet's `wallet.payment-method.marked-unusable`): it pays no more until saved again. Null otherwise.",
  })
  unusableReason!: string | null;
}

export class ContactView {
  @ApiProperty({ nullable: true, type: Boolean })
  hasEmail!: boolean | null;

  @ApiProperty({ nullable: true, type: Boolean })
  hasPhone!: boolean | null;
}

export class ProfileView {
  @ApiProperty()
  personId!: string;

  @ApiProperty({ nullable: true, type: String })
  country!: string | null;

  @ApiProperty({ nullable: true, type: String })
  walletOpenedAt!: string | null;

  @ApiProperty({ type: [String], description: 'Apps where Pay is active.' })
  apps!: string[];

  @ApiProperty({ type: [SavedMethodView] })
  paymentMethods!: SavedMethodView[];

  @ApiProperty({
    type: ContactView,
    required: false,
    description: 'Contact details (whether the wallet holds an e-mail address and a phone number). Never shown to analysts.',
  })
  contact?: ContactView;
}

/** How a person sees a saved method that history keeps (`preferred`: the wallet's preferred one). */
export function savedMethodView(method: MethodRow, preferred: boolean): SavedMethodView {
  return {
    id: method.methodId,
    type: method.kind,
    brand: method.brand,
    last4: method.last4,
    expMonth: method.expMonth,
    expYear: method.expYear,
    preferred,
    removedAt: method.removedAt,
    unusableReason: method.unusableReason,
  };
}
