import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { APPS } from '@pay/contracts';
import { PaymentMethodView } from '../view-payment-methods/payment-method-view';

export class PinStatusView {
  @ApiProperty({ description: 'Whether a PIN protects payments.' })
  set!: boolean;

  @ApiPropertyOptional({ format: 'date-time', description: 'PIN use is locked until then after too many wrong PINs.' })
  lockedUntil?: string;

  @ApiPropertyOptional({ description: 'PIN use is blocked after repeated locks until the person is re-verified (support unblocks it).' })
  blocked?: boolean;
}

export class ConsentView {
  @ApiProperty({ description: 'Whether payment data may be used, aggregated and anonymous, to measure ads.' })
  granted!: boolean;

  @ApiProperty({ enum: ['default', 'person'], description: "`default`: the country's default; `person`: the person chose." })
  source!: 'default' | 'person';

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

export class ConsentsView {
  @ApiProperty({ type: ConsentView })
  adMeasurement!: ConsentView;
}

export class ContactView {
  @ApiPropertyOptional({ example: 'a•••@example.com', description: 'Masked; stored encrypted.' })
  email?: string;

  @ApiPropertyOptional({ example: '+49•••••••••78', description: 'Masked; stored encrypted.' })
  phone?: string;
}

export class AppsView {
  @ApiProperty({ enum: APPS, isArray: true, description: 'Apps in which Pay is active for this person.' })
  apps!: string[];

  @ApiProperty({ enum: APPS, isArray: true, description: "Apps in which Pay is live in the person's country." })
  availableApps!: string[];
}

/** Everything a person set in Pay, in one place. */
export class WalletView extends AppsView {
  @ApiProperty({ example: 'person-42' })
  personId!: string;

  @ApiProperty({ example: 'DE' })
  country!: string;

  @ApiPropertyOptional({ format: 'uuid' })
  preferredMethodId?: string;

  @ApiProperty({ type: PaymentMethodView, isArray: true })
  paymentMethods!: PaymentMethodView[];

  @ApiProperty({ type: PinStatusView })
  pin!: PinStatusView;

  @ApiProperty({ type: ConsentsView })
  consents!: ConsentsView;

  @ApiProperty({ type: ContactView })
  contact!: ContactView;
}
