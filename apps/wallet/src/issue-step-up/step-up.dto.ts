import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsISO4217CurrencyCode, IsObject, Matches, ValidateNested } from 'class-validator';
import { STEP_UP_METHOD_NAMES } from '@pay/contracts';
import { AuthenticationCredentialBody } from '../passkeys/passkey.dto';

export class AmountCeiling {
  @ApiProperty({ example: '12500', description: 'Minor units as a string (12500 = 125.00); the proof allows payments up to this.' })
  @Matches(/^[1-9][0-9]{0,17}$/, { message: 'amount must be a positive whole number of minor units written as a string, e.g. "12500"' })
  amount!: string;

  @ApiProperty({ example: 'EUR' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO-4217 code such as EUR or USD' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO-4217 code such as EUR or USD' })
  currency!: string;
}

export class PinStepUpRequest {
  @ApiProperty({ example: '730264', format: 'password' })
  @Matches(/^\d{4,6}$/, { message: 'pin: a PIN is 4 to 6 digits' })
  pin!: string;

  @ApiProperty({ type: AmountCeiling })
  @IsObject({ message: 'ceiling must be { amount, currency }' })
  @ValidateNested()
  @Type(() => AmountCeiling)
  ceiling!: AmountCeiling;
}

export class BiometricStepUpOptionsRequest {
  @ApiProperty({
    type: AmountCeiling,
    description: 'The payment to confirm: the challenge is bound to this ceiling, and only this ceiling is accepted with it.',
  })
  @IsObject({ message: 'ceiling must be { amount, currency }' })
  @ValidateNested()
  @Type(() => AmountCeiling)
  ceiling!: AmountCeiling;
}

export class BiometricStepUpRequest {
  @ApiProperty({ type: AmountCeiling, description: 'The same ceiling the options were asked for.' })
  @IsObject({ message: 'ceiling must be { amount, currency }' })
  @ValidateNested()
  @Type(() => AmountCeiling)
  ceiling!: AmountCeiling;

  @ApiProperty({ type: AuthenticationCredentialBody, description: 'What startAuthentication() returned, unchanged.' })
  @IsObject({ message: 'credential must be what startAuthentication() returned' })
  @ValidateNested()
  @Type(() => AuthenticationCredentialBody)
  credential!: AuthenticationCredentialBody;
}

export class StepUpProofView {
  @ApiProperty({ description: 'The signed proof (compact JWS, typ step-up+jwt); send it with the payment.' })
  proof!: string;

  @ApiProperty({ format: 'uuid' })
  proofId!: string;

  @ApiProperty({ enum: STEP_UP_METHOD_NAMES })
  method!: string;

  @ApiProperty({ type: AmountCeiling })
  ceiling!: AmountCeiling;

  @ApiProperty({ format: 'date-time' })
  expiresAt!: string;
}
