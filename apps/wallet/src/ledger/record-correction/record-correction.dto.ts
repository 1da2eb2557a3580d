import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf, ValidateNested } from 'class-validator';
import { ID_MESSAGE, ID_PATTERN, TRANSACTION_REF_PATTERN } from '../http/validation';
import { PostingRequest, TracingFields } from '../transactions/post-transaction.dto';

export class RecordCorrectionRequest extends TracingFields {
  @ApiProperty({ example: 'corr-2026-12-05-001', description: 'The idempotency key: the same id with the same content and reason returns the first result.' })
  @IsString()
  @Matches(ID_PATTERN, { message: ID_MESSAGE })
  id!: string;

  @ApiProperty({
    minLength: 10,
    maxLength: 500,
    example: 'Ticket OPS-1234: capture of payment pay-7f3a was posted twice',
    description: 'Why: kept in the audit record (ledger_corrections) with the operator. Name the ticket; no card numbers or contact details.',
  })
  @IsString({ message: 'reason is required: say why (10 to 500 characters, e.g. the ticket)' })
  @MinLength(10, { message: 'reason must be at least 10 characters: say why, e.g. the ticket' })
  @MaxLength(500)
  reason!: string;

  @ApiPropertyOptional({
    example: 'purchase-7f3a',
    description: 'A reversal of this transaction: mirrored postings (all of what is left if none are given). Leave out for an adjustment.',
  })
  @IsOptional()
  @IsString()
  @Matches(TRANSACTION_REF_PATTERN, { message: 'reverses must be a transaction id (or <reservation>:post for a posted reservation)' })
  reverses?: string;

  @ApiPropertyOptional({
    type: [PostingRequest],
    description:
      'An adjustment between named accounts (required without `reverses`): debits equal credits. System accounts may only be credited, and only system.psp-clearing.*, system.fee-revenue.* and system.topups.*.',
  })
  @ValidateIf((request: RecordCorrectionRequest) => request.reverses === undefined || request.postings !== undefined)
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => PostingRequest)
  postings?: PostingRequest[];
}
