import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO4217CurrencyCode, IsISO8601, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import { ID_MESSAGE, ID_PATTERN, IsStringMap } from '../http/validation';

export class OpenAccountRequest {
  @ApiProperty({ example: 'wallet-u-123-eur', description: 'Chosen by the caller; opening the same account again is idempotent.' })
  @IsString()
  @Matches(ID_PATTERN, { message: ID_MESSAGE })
  id!: string;

  @ApiProperty({ enum: ['person', 'merchant', 'non_profit', 'system'] })
  @IsIn(['person', 'merchant', 'non_profit', 'system'])
  ownerType!: 'person' | 'merchant' | 'non_profit' | 'system';

  @ApiProperty({ example: 'u-123' })
  @IsString()
  @Matches(ID_PATTERN, { message: ID_MESSAGE })
  ownerId!: string;

  @ApiProperty({ example: 'EUR' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO-4217 code in upper case, e.g. EUR' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO-4217 code in upper case, e.g. EUR' })
  currency!: string;

  @ApiPropertyOptional({
    enum: ['debit', 'credit'],
    description: 'Defaults to credit for person, merchant and non-profit accounts; required for system accounts.',
  })
  @IsOptional()
  @IsIn(['debit', 'credit'])
  normalSide?: 'debit' | 'credit';

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '0',
    description:
      'Balance guard: "0" (never negative) or a negative overdraft limit; null for none. Defaults: "0" for people, merchants and non-profits, none for system accounts. A person is always "0".',
  })
  @ValidateIf((request: OpenAccountRequest) => request.minBalance !== undefined && request.minBalance !== null)
  @IsString()
  @Matches(/^(0|-[1-9][0-9]{0,18})$/, { message: 'minBalance must be "0" or a negative whole number of minor units as a string, or null' })
  minBalance?: string | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringMap()
  metadata?: Record<string, string>;
}

export class BalanceQuery {
  @ApiPropertyOptional({ example: '42', description: 'Balance after this journal position (0 = before the first entry).' })
  @IsOptional()
  @Matches(/^(0|[1-9][0-9]{0,18})$/, { message: 'asOfPosition must be a journal position: a whole number written in digits' })
  asOfPosition?: string;

  @ApiPropertyOptional({ example: '2026-01-31T23:59:59Z', description: 'Balance as of this time (ISO-8601).' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'asOf must be an ISO-8601 date-time, e.g. 2026-01-31T23:59:59Z' })
  asOf?: string;
}

export class StatementQuery {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page.' })
  @IsOptional()
  @IsString()
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number from 1 to 500' })
  @Min(1)
  @Max(500)
  limit?: number;
}
