import { ApiProperty } from '@nestjs/swagger';
import type { CsvColumn } from '../export-history/csv';
import type { AggregateBasis, AggregateDimension, AggregateInterval } from './aggregate-query';

export class AggregateRowView {
  @ApiProperty({ example: '2026-11-23', description: 'First day of the period (UTC; weeks start on Monday).' })
  period!: string;

  @ApiProperty({ required: false, nullable: true, type: String })
  app?: string | null;

  @ApiProperty({ required: false, nullable: true, type: String })
  country?: string | null;

  @ApiProperty({ example: 'EUR', description: 'Always part of the group: amounts are never added across currencies.' })
  currency!: string;

  @ApiProperty({ required: false })
  kind?: string;

  @ApiProperty({ required: false })
  methodType?: string;

  @ApiProperty({ required: false })
  status?: string;

  @ApiProperty({ example: 42, description: 'Entries in the group.' })
  count!: number;

  @ApiProperty({ example: '52500', description: 'Sum of their amounts (minor units).' })
  sum!: string;

  @ApiProperty({ example: '50000', description: 'Sum of their net amounts (what moved, net of refunds and chargebacks).' })
  netSum!: string;
}

export class AggregatesView {
  @ApiProperty({ enum: ['day', 'week', 'month'] })
  interval!: AggregateInterval;

  @ApiProperty({ type: [String] })
  groupBy!: string[];

  @ApiProperty({
    enum: ['daily_totals', 'entries'],
    description: 'Answered from the daily totals, or (amount or counterparty filters, times within a day) from the entries.',
  })
  basis!: AggregateBasis;

  @ApiProperty({ type: [AggregateRowView] })
  rows!: AggregateRowView[];
}

export interface AggregateRow {
  period: string;
  app?: string | null;
  country?: string | null;
  currency: string;
  kind?: string;
  method_type?: string;
  status?: string;
  count: string;
  sum: string;
  net_sum: string;
}

export function aggregateRowView(row: AggregateRow, groupBy: readonly AggregateDimension[]): AggregateRowView {
  const view: AggregateRowView = { period: row.period, currency: row.currency, count: Number(row.count), sum: row.sum, netSum: row.net_sum };
  for (const dimension of groupBy) {
    if (dimension === 'currency') continue;
    const column = dimension === 'methodType' ? 'method_type' : dimension;
    (view as unknown as Record<string, unknown>)[dimension] = row[column] ?? null;
  }
  return view;
}

export function aggregateCsvColumns(groupBy: readonly AggregateDimension[]): Array<CsvColumn<AggregateRow>> {
  const dims = groupBy.filter((d) => d !== 'currency');
  return [
    { header: 'period', value: (r) => r.period },
    ...dims.map((d) => ({ header: d === 'methodType' ? 'payment_method_type' : d, value: (r: AggregateRow) => r[d === 'methodType' ? 'method_type' : d] })),
    { header: 'currency', value: (r) => r.currency },
    { header: 'count', value: (r) => r.count, numeric: true },
    { header: 'sum', value: (r) => r.sum, numeric: true },
    { header: 'net_sum', value: (r) => r.net_sum, numeric: true },
  ];
}
