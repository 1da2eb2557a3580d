import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AppName, PaymentKind } from '@pay/contracts';
import { APPS, Counterparty, ID_PATTERN, Money, PAYMENT_KINDS } from '@pay/contracts';
import { Type } from 'class-transformer';
import { IsIn, IsISO31661Alpha2, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';

const ID_MESSAGE = (field: string) => ({ message: `${field} must be 1 to 100 of letters, digits, "_", "-", ":" and "."` });

/**
 * `POST /v1/payments`: the PurchaseRequested event of the Kafka door, without `requestId` (the
 * `Idempotency-Key` header is the request id).
 */
export class CreatePaymentRequest {
  @ApiProperty({ enum: PAYMENT_KINDS, description: 'purchase (to a merchant), donation (to a registered non-profit), transfer (to a person, from the wallet balance)' })
  @IsIn(PAYMENT_KINDS)
  kind!: PaymentKind;

  @ApiProperty({ example: 'person-42', description: 'The paying person.' })
  @Matches(ID_PATTERN, ID_MESSAGE('personId'))
  personId!: string;

  @ApiProperty({ example: { type: 'merchant', id: 'merchant-7' }, description: 'merchant, non-profit or person, and its id.' })
  @ValidateNested()
  @Type(() => Counterparty)
  counterparty!: Counterparty;

  @ApiProperty({ enum: APPS })
  @IsIn(APPS)
  app!: AppName;

  @ApiProperty({ example: 'US', description: 'Where the person is (ISO 3166-1 alpha-2): the rollout is per country.' })
  @IsISO31661Alpha2()
  country!: string;

  @ApiProperty({ example: { amount: '1250', currency: 'USD' }, description: 'Minor units as a string, ISO-4217 currency.' })
  @ValidateNested()
  @Type(() => Money)
  amount!: Money;

  @ApiPropertyOptional({ format: 'uuid', description: 'A saved method of the person; the preferred one when absent. Not for transfers.' })
  @IsOptional()
  @Matches(ID_PATTERN, ID_MESSAGE('paymentMethodId'))
  paymentMethodId?: string;

  @ApiPropertyOptional({ description: "The wallet's step-up proof (PIN or biometric), needed above the configured amount." })
  @IsOptional()
  @IsString()
  @Length(1, 4_000)
  stepUpProof?: string;

  @ApiPropertyOptional({ example: '5812', description: 'ISO 18245 merchant category code.' })
  @IsOptional()
  @Matches(/^\d{4}$/, { message: 'merchantCategory must be a four-digit ISO 18245 code' })
  merchantCategory?: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  description?: string;
}
