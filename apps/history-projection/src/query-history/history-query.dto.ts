import { BadRequestException } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsWholeNumber } from '@pay/config';
import { APPS, ID_PATTERN, MINOR_UNITS_PATTERN } from '@pay/contracts';
import { Transform } from 'class-transformer';
import { IsIn, IsISO8601, IsOptional, IsString, Length, Matches } from 'class-validator';
import { AGGREGATE_DIMENSIONS, AGGREGATE_INTERVALS } from '../aggregate-history/aggregate-query';
import type { AggregateDimension, AggregateInterval } from '../aggregate-history/aggregate-query';
import { ENTRY_KINDS, ENTRY_STATUSES, METHOD_TYPES } from '../project-events/history-entries';
import type { HistoryFilters, SortOrder } from './history-query';

/** `a,b` or `?x=a&x=b` (or both): a list. */
const toList = ({ value }: { value: unknown }): unknown =>
  value === undefined
    ? undefined
    : (Array.isArray(value) ? value : [value])
        .flatMap((item) => String(item).split(','))
        .map((item) => item.trim())
        .filter((item) => item.length > 0);

const ID_MESSAGE = 'must be 1 to 100 of letters, digits, "_", "-", ":" and "."';
const AMOUNT_MESSAGE = 'must be a whole number of minor units, e.g. 1250 for 12.50';
const INSTANT_MESSAGE = 'must be an ISO-8601 date-time, e.g. 2026-11-01T00:00:00Z';
const listMessage = (values: readonly string[]): string => `must be one or more (comma-separated) of ${values.join(', ')}`;

/** The filters every history query takes (validated; unknown parameters are refused). */
export class HistoryFiltersDto {
  @ApiPropertyOptional({ description: `Apps, comma-separated: ${APPS.join(', ')}`, example: 'instagram,whatsapp' })
  @IsOptional()
  @Transform(toList)
  @IsIn(APPS, { each: true, message: `app ${listMessage(APPS)}` })
  app?: string[];

  @ApiPropertyOptional({ description: `Kinds, comma-separated: ${ENTRY_KINDS.join(', ')}`, example: 'purchase,refund' })
  @IsOptional()
  @Transform(toList)
  @IsIn(ENTRY_KINDS, { each: true, message: `kind ${listMessage(ENTRY_KINDS)}` })
  kind?: string[];

  @ApiPropertyOptional({ description: `Statuses, comma-separated: ${ENTRY_STATUSES.join(', ')}`, example: 'captured,refunded' })
  @IsOptional()
  @Transform(toList)
  @IsIn(ENTRY_STATUSES, { each: true, message: `status ${listMessage(ENTRY_STATUSES)}` })
  status?: string[];

  @ApiPropertyOptional({ description: 'ISO-4217 currencies, comma-separated', example: 'EUR' })
  @IsOptional()
  @Transform(toList)
  @Matches(/^[A-Z]{3}$/, { each: true, message: 'currency must be one or more (comma-separated) ISO-4217 codes such as EUR' })
  currency?: string[];

  @ApiPropertyOptional({ description: `Payment-method types, comma-separated: ${METHOD_TYPES.join(', ')}` })
  @IsOptional()
  @Transform(toList)
  @IsIn(METHOD_TYPES, { each: true, message: `methodType ${listMessage(METHOD_TYPES)}` })
  methodType?: string[];

  @ApiPropertyOptional({
    description: "The other party: for a person, whom they paid or who paid them; for a business, the payer; in analysts' list, the payee.",
  })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `counterparty ${ID_MESSAGE}` })
  counterparty?: string;

  @ApiPropertyOptional({ description: "One payment's entries: the payment, its refunds and chargebacks" })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `paymentId ${ID_MESSAGE}` })
  paymentId?: string;

  @ApiPropertyOptional({ description: 'Smallest amount, minor units (inclusive)', example: '1000' })
  @IsOptional()
  @Matches(MINOR_UNITS_PATTERN, { message: `minAmount ${AMOUNT_MESSAGE}` })
  minAmount?: string;

  @ApiPropertyOptional({ description: 'Largest amount, minor units (inclusive)', example: '50000' })
  @IsOptional()
  @Matches(MINOR_UNITS_PATTERN, { message: `maxAmount ${AMOUNT_MESSAGE}` })
  maxAmount?: string;

  @ApiPropertyOptional({ description: 'From this instant (inclusive), ISO-8601', example: '2026-11-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: `from ${INSTANT_MESSAGE}` })
  from?: string;

  @ApiPropertyOptional({ description: 'Until this instant (exclusive), ISO-8601', example: '2026-12-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: `to ${INSTANT_MESSAGE}` })
  to?: string;
}

export class HistoryOrderDto extends HistoryFiltersDto {
  @ApiPropertyOptional({ enum: ['desc', 'asc'], default: 'desc', description: 'Newest first (desc) or oldest first.' })
  @IsOptional()
  @IsIn(['desc', 'asc'], { message: 'order must be desc or asc' })
  order?: SortOrder;
}

export class HistoryPageDto extends HistoryOrderDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @IsWholeNumber({ min: 1, max: 500, message: 'limit must be a whole number from 1 to 500' })
  limit?: number;

  @ApiPropertyOptional({ description: '`nextCursor` of the previous page.' })
  @IsOptional()
  @IsString()
  @Length(1, 600, { message: 'cursor must be the nextCursor of the previous page' })
  cursor?: string;
}

const DIMENSIONS = Object.keys(AGGREGATE_DIMENSIONS);

export class AggregatesQueryDto extends HistoryFiltersDto {
  @ApiPropertyOptional({ enum: AGGREGATE_INTERVALS, default: 'day', description: 'Periods in UTC; weeks start on Monday.' })
  @IsOptional()
  @IsIn(AGGREGATE_INTERVALS, { message: `interval must be one of ${AGGREGATE_INTERVALS.join(', ')}` })
  interval?: AggregateInterval;

  @ApiPropertyOptional({ description: `Dimensions, comma-separated: ${DIMENSIONS.join(', ')}. The currency is always one.`, example: 'app,country' })
  @IsOptional()
  @Transform(toList)
  @IsIn(DIMENSIONS, { each: true, message: `groupBy ${listMessage(DIMENSIONS)}` })
  groupBy?: AggregateDimension[];
}

function invalid(message: string): BadRequestException {
  return new BadRequestException({ code: 'VALIDATION_FAILED', message: 'the request is not valid', details: [message] });
}

/** The filters as the queries take them; refuses empty ranges. */
export function toFilters(dto: HistoryFiltersDto): HistoryFilters {
  const filters: HistoryFilters = {
    apps: dto.app,
    kinds: dto.kind,
    statuses: dto.status,
    currencies: dto.currency,
    methodTypes: dto.methodType,
    counterpartyId: dto.counterparty,
    paymentId: dto.paymentId,
    minAmount: dto.minAmount === undefined ? undefined : BigInt(dto.minAmount),
    maxAmount: dto.maxAmount === undefined ? undefined : BigInt(dto.maxAmount),
    from: dto.from === undefined ? undefined : new Date(dto.from),
    to: dto.to === undefined ? undefined : new Date(dto.to),
  };
  if (filters.minAmount !== undefined && filters.maxAmount !== undefined && filters.minAmount > filters.maxAmount) {
    throw invalid('minAmount: must not be greater than maxAmount');
  }
  if (filters.from && filters.to && filters.from >= filters.to) throw invalid('from: must be before to');
  return filters;
}
