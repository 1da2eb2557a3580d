import type { ReadModelTables } from '../read-model/read-model-tables';
import type { BuiltQuery, HistoryFilters } from '../query-history/history-query';
import { ANALYSTS_COUNTERPARTY, filterConditions, Parameters } from '../query-history/history-query';

export const AGGREGATE_INTERVALS = ['day', 'week', 'month'] as const;
export type AggregateInterval = (typeof AGGREGATE_INTERVALS)[number];

/** Dimensions analysts group by, and their columns (in the entries and in the daily totals). */
export const AGGREGATE_DIMENSIONS = {
  app: 'app',
  country: 'country',
  currency: 'currency',
  kind: 'kind',
  methodType: 'method_type',
  status: 'status',
} as const;
export type AggregateDimension = keyof typeof AGGREGATE_DIMENSIONS;

export interface AggregateRequest {
  interval: AggregateInterval;
  groupBy: AggregateDimension[];
  filters: HistoryFilters;
}

export type AggregateBasis = 'daily_totals' | 'entries';

const isMidnightUtc = (date: Date | undefined): boolean => date === undefined || date.getTime() % 86_400_000 === 0;

/**
 * Daily totals answer whatever filters only name their dimensions and whole UTC days; an
 * amount range or a counterparty needs the entries themselves.
 */
export function aggregateBasis(filters: HistoryFilters): AggregateBasis {
  const needsEntries =
    filters.counterpartyId !== undefined ||
    filters.paymentId !== undefined ||
    filters.minAmount !== undefined ||
    filters.maxAmount !== undefined ||
    !isMidnightUtc(filters.from) ||
    !isMidnightUtc(filters.to);
  return needsEntries ? 'entries' : 'daily_totals';
}

/**
 * Count and sums per period (UTC day, ISO week from Monday, month) and per chosen dimensions.
 * Sums are never added across currencies: the currency is always part of the group.
 */
export function aggregateQuery(tables: ReadModelTables, request: AggregateRequest): BuiltQuery & { basis: AggregateBasis } {
  const params = new Parameters();
  const basis = aggregateBasis(request.filters);
  const dimensions = [...new Set<AggregateDimension>([...request.groupBy, 'currency'])].map((d) => AGGREGATE_DIMENSIONS[d]);
  const interval = params.add(request.interval);
  let text: string;
  if (basis === 'daily_totals') {
    const where: string[] = ['true'];
    const list = (column: string, values: string[] | undefined): void => {
      if (values && values.length > 0) where.push(`${column} = ANY(${params.add(values)}::text[])`);
    };
    list('app', request.filters.apps);
    list('kind', request.filters.kinds);
    list('status', request.filters.statuses);
    list('currency', request.filters.currencies);
    list('method_type', request.filters.methodTypes);
    if (request.filters.from) where.push(`day >= ${params.add(request.filters.from.toISOString().slice(0, 10))}::date`);
    if (request.filters.to) where.push(`day < ${params.add(request.filters.to.toISOString().slice(0, 10))}::date`);
    text = `SELECT to_char(date_trunc(${interval}, day::timestamp), 'YYYY-MM-DD') AS period,
              ${dimensions.map((c) => `NULLIF(${c}, '') AS ${c}`).join(', ')},
              sum(entries)::text AS count, sum(amount)::text AS sum, sum(net_amount)::text AS net_sum
            FROM ${tables.dailyTotals} WHERE ${where.join(' AND ')}
            GROUP BY 1, ${dimensions.map((_, i) => i + 2).join(', ')}
            ORDER BY 1, ${dimensions.map((_, i) => i + 2).join(', ')}`;
  } else {
    // Analysts only: the counterparty filter names businesses, never a person (see scopeBranches).
    const where = ['true', ...filterConditions(request.filters, params, ANALYSTS_COUNTERPARTY)];
    text = `SELECT to_char(date_trunc(${interval}, occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS period,
              ${dimensions.join(', ')},
              count(*)::text AS count, sum(amount)::text AS sum, sum(net_amount)::text AS net_sum
            FROM ${tables.entries} WHERE ${where.join(' AND ')}
            GROUP BY 1, ${dimensions.map((_, i) => i + 2).join(', ')}
            ORDER BY 1, ${dimensions.map((_, i) => i + 2).join(', ')}`;
  }
  return { text, values: params.values, basis };
}
