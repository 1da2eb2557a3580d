import type { DataSource } from 'typeorm';
import { sqlOfPool } from '@pay/platform';
import type { AggregateRequest } from '../aggregate-history/aggregate-query';
import { aggregateQuery } from '../aggregate-history/aggregate-query';
import type { AggregateRow, AggregatesView } from '../aggregate-history/aggregate-view';
import { aggregateCsvColumns, aggregateRowView } from '../aggregate-history/aggregate-view';
import { csvHeader, csvLines } from '../export-history/csv';
import { streamQuery } from '../export-history/stream-query';
import type { MethodRecord } from '../read-model/method-record';
import { METHOD_RECORD_COLUMNS, methodFromRecord } from '../read-model/method-record';
import type { ReadModelTables } from '../read-model/read-model-tables';
import { readModelTables } from '../read-model/read-model-tables';
import { LiveVersionCache } from '../read-model/read-model-version';
import { decodeCursor, encodeCursor } from './cursor';
import type { HistoryPageView } from './entry-view';
import { ENTRY_CSV_COLUMNS, entryView } from './entry-view';
import type { EntryRow, HistoryFilters, HistoryScope, SortOrder } from './history-query';
import { historyQuery, summaryQuery } from './history-query';
import type { ProfileView } from './profile-view';
import { savedMethodView } from './profile-view';
import type { SummaryRow, SummaryView } from './summary-view';
import { summaryView } from './summary-view';

export interface PageQuery {
  limit: number;
  order: SortOrder;
  cursor?: string;
}

/** How a caller sees an entry's row (the identity for all but analysts). */
export type RowView = (row: EntryRow) => EntryRow;

/** Rows of an export per round trip to PostgreSQL (and per chunk written to the response). */
export const EXPORT_BATCH_ROWS = 1_000;

/** Reads the live version of the read model: pages, exports, summaries, profiles, aggregates. */
export class HistoryReader {
  private readonly versions: LiveVersionCache;

  constructor(private readonly dataSource: DataSource) {
    this.versions = new LiveVersionCache(sqlOfPool(dataSource));
  }

  async tables(): Promise<ReadModelTables> {
    return readModelTables(await this.versions.current());
  }

  /** `view`: how the caller sees a row (analysts: pseudonyms, see PersonPseudonyms); the cursor is the row's own. */
  async page(scope: HistoryScope, filters: HistoryFilters, query: PageQuery, view: RowView = (row) => row): Promise<HistoryPageView> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, query.order);
    const built = historyQuery(await this.tables(), scope, filters, query.order, { limit: query.limit, after });
    const rows = await this.dataSource.query<EntryRow[]>(built.text, built.values);
    const entries = rows.slice(0, query.limit);
    const last = entries[entries.length - 1];
    return {
      entries: entries.map((row) => entryView(view(row))),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ occurredAt: last.occurred_at, entryId: last.entry_id }, query.order) : null,
    };
  }

  /** The whole filtered history as CSV, a batch of rows at a time (never the whole result in memory). */
  async *exportCsv(scope: HistoryScope, filters: HistoryFilters, order: SortOrder, view: RowView = (row) => row): AsyncGenerator<string> {
    const built = historyQuery(await this.tables(), scope, filters, order);
    yield csvHeader(ENTRY_CSV_COLUMNS);
    for await (const rows of streamQuery<EntryRow>(this.dataSource, built.text, built.values, EXPORT_BATCH_ROWS))
      yield csvLines(ENTRY_CSV_COLUMNS, rows.map(view));
  }

  async summary(scope: Exclude<HistoryScope, { kind: 'all' }>, filters: HistoryFilters): Promise<SummaryView> {
    const built = summaryQuery(await this.tables(), scope, filters);
    return summaryView(await this.dataSource.query<SummaryRow[]>(built.text, built.values), scope.kind === 'person');
  }

  async profile(personId: string, withContact: boolean): Promise<ProfileView> {
    const t = await this.tables();
    const [wallet] = await this.dataSource.query<Array<Record<string, unknown>>>(
      `SELECT person_id, country, to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS opened_at, apps, has_email, has_phone, preferred_method_id
       FROM ${t.wallets} WHERE person_id = $1`,
      [personId],
    );
    const methods = await this.dataSource.query<MethodRecord[]>(
      `SELECT ${METHOD_RECORD_COLUMNS} FROM ${t.methods} WHERE person_id = $1 AND added_at IS NOT NULL ORDER BY added_at, method_id`,
      [personId],
    );
    const profile: ProfileView = {
      personId,
      country: (wallet?.country as string | null) ?? null,
      walletOpenedAt: (wallet?.opened_at as string | null) ?? null,
      apps: (wallet?.apps as string[] | undefined) ?? [],
      paymentMethods: methods.map(methodFromRecord).map((m) => savedMethodView(m, wallet?.preferred_method_id === m.methodId)),
    };
    if (withContact) profile.contact = { hasEmail: (wallet?.has_email as boolean | null) ?? null, hasPhone: (wallet?.has_phone as boolean | null) ?? null };
    return profile;
  }

  async aggregates(request: AggregateRequest): Promise<AggregatesView> {
    const built = aggregateQuery(await this.tables(), request);
    const rows = await this.dataSource.query<AggregateRow[]>(built.text, built.values);
    return { interval: request.interval, groupBy: request.groupBy, basis: built.basis, rows: rows.map((row) => aggregateRowView(row, request.groupBy)) };
  }

  async *exportAggregatesCsv(request: AggregateRequest): AsyncGenerator<string> {
    const built = aggregateQuery(await this.tables(), request);
    const columns = aggregateCsvColumns(request.groupBy);
    yield csvHeader(columns);
    for await (const rows of streamQuery<AggregateRow>(this.dataSource, built.text, built.values, EXPORT_BATCH_ROWS)) yield csvLines(columns, rows);
  }
}
