import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsISO4217CurrencyCode, IsISO8601, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { AMOUNT_MESSAGE, ID_MESSAGE, ID_PATTERN, IsStringMap, POSITIVE_AMOUNT } from '../http/validation';
import { TracingFields } from '../transactions/post-transaction.dto';

export const MAX_HOLD_SECONDS = 30 * 24 * 3600;

export class ReserveRequest extends TracingFields {
  @ApiProperty({ example: 'p2p-91c2', description: 'The reservation id, also its idempotency key.' })
  @IsString()
  @Matches(ID_PATTERN, { message: ID_MESSAGE })
  id!: string;

  @ApiProperty({ description: 'The account the money is held from.' })
  @IsString()
  @Matches(ID_PATTERN, { message: ID_MESSAGE })
  debitAccountId!: string;

  @ApiProperty({ description: 'The account that receives it when posted.' })
  @IsString()
  @Matches(ID_PATTERN, { message: ID_MESSAGE })
  creditAccountId!: string;

  @ApiProperty({ example: '2500' })
  @IsString()
  @Matches(POSITIVE_AMOUNT, { message: AMOUNT_MESSAGE })
  amount!: string;

  @ApiProperty({ example: 'EUR' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO-4217 code in upper case, e.g. EUR' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO-4217 code in upper case, e.g. EUR' })
  currency!: string;

  @ApiPropertyOptional({ example: '2026-01-31T12:00:00Z', description: 'When the hold is released if not posted. Give this or ttlSeconds.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO-8601 date-time, e.g. 2026-01-31T12:00:00Z' })
  expiresAt?: string;

  @ApiPropertyOptional({ example: 900, minimum: 1, maximum: MAX_HOLD_SECONDS, description: 'Hold duration from now. Give this or expiresAt.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_HOLD_SECONDS)
  ttlSeconds?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringMap()
  metadata?: Record<string, string>;
}

export class PostReservationRequest extends TracingFields {
  @ApiPropertyOptional({ example: '1800', description: 'Post this much (at most the reserved amount; the rest is released). Default: all of it.' })
  @IsOptional()
  @IsString()
  @Matches(POSITIVE_AMOUNT, { message: AMOUNT_MESSAGE })
  amount?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringMap()
  metadata?: Record<string, string>;
}

export class VoidReservationRequest extends TracingFields {
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringMap()
  metadata?: Record<string, string>;
}
