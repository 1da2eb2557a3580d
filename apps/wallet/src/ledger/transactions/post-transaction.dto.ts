import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsISO4217CurrencyCode,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { AMOUNT_MESSAGE, ID_MESSAGE, ID_PATTERN, IsStringMap, POSITIVE_AMOUNT, TRANSACTION_REF_PATTERN } from '../http/validation';

export class PostingRequest {
  @ApiProperty({ example: 'wallet-u-123-eur' })
  @IsString()
  @Matches(ID_PATTERN, { message: ID_MESSAGE })
  accountId!: string;

  @ApiProperty({ enum: ['debit', 'credit'] })
  @IsIn(['debit', 'credit'])
  direction!: 'debit' | 'credit';

  @ApiProperty({ example: '1250', description: 'Minor units as a decimal string.' })
  @IsString()
  @Matches(POSITIVE_AMOUNT, { message: AMOUNT_MESSAGE })
  amount!: string;

  @ApiProperty({ example: 'EUR' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO-4217 code in upper case, e.g. EUR' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO-4217 code in upper case, e.g. EUR' })
  currency!: string;
}

/** Tracing context carried to the ledger event; not part of the idempotent content. */
export class TracingFields {
  @ApiPropertyOptional({ format: 'uuid', description: 'Correlation id of the business flow (copied to the ledger event).' })
  @IsOptional()
  @IsUUID()
  correlationId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Id of the event or request that caused this one.' })
  @IsOptional()
  @IsUUID()
  causationId?: string;
}

export class PostTransactionRequest extends TracingFields {
  @ApiProperty({ example: 'purchase-7f3a', description: 'The idempotency key: the same id with the same content returns the first result.' })
  @IsString()
  @Matches(ID_PATTERN, { message: ID_MESSAGE })
  id!: string;

  @ApiPropertyOptional({
    type: [PostingRequest],
    description: 'Debits equal credits in every currency. Required, except for a full reversal (with `reverses`), where it may be left out.',
  })
  @ValidateIf((request: PostTransactionRequest) => request.reverses === undefined || request.postings !== undefined)
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(128)
  @ValidateNested({ each: true })
  @Type(() => PostingRequest)
  postings?: PostingRequest[];

  @ApiPropertyOptional({
    example: 'purchase-7f3a',
    description: 'Makes this a reversal of that transaction: mirrored postings (all of what is left if none are given).',
  })
  @IsOptional()
  @IsString()
  @Matches(TRANSACTION_REF_PATTERN, { message: 'reverses must be a transaction id (or <reservation>:post for a posted reservation)' })
  reverses?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringMap()
  metadata?: Record<string, string>;
}
