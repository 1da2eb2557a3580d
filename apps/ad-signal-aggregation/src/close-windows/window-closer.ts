import { Inject, Injectable } from '@nestjs/common';
import type { CellDecision, Contribution, NoiseSource, PurchaseFact, TimeWindow } from '@pay/ad-signals-domain';
import {
  ConsentTimeline,
  contributionKey,
  dimensionsKey,
  hourStatusKey,
  isoOf,
  PAYMENT_METHOD_TYPES,
  releaseDay,
  releaseHour,
  UNKNOWN,
  watermarkFrom,
  windowCorrelationId,
  windowOf,
  windowStarting,
} from '@pay/ad-signals-domain';
import type { AdSignalAggregatePublished } from '@pay/contracts';
import { AdSignalAggregatePublishedV1, createEvent } from '@pay/contracts';
import { appendToOutbox } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import type { Sql } from '@pay/platform';
import { inTransaction, LOGGER, sqlOfPool } from '@pay/platform';
import { DataSource } from 'typeorm';
import type { AdSignalSettings } from '../ad-signals.settings';
import { AD_SIGNAL_SETTINGS, NOISE_SOURCE } from '../ad-signals.tokens';
import { latestEventTime } from '../store/watermark-store';
import { lockWindow } from '../store/window-locks';

export interface CloseReport {
  watermark?: string;
  hoursClosed: number;
  daysClosed: number;
  cellsPublished: number;
  cellsSuppressed: number;
}

interface PendingPurchaseRow {
  payment_key: string;
  person_key: string;
  merchant_id: string;
  occurred_at: Date;
  app: string;
  country: string;
  merchant_category: string;
  provider: string;
  method_kind: string | null;
  amount_bucket: string;
  amount: string;
  currency: string;
  refunded: string;
  fully_refunded: boolean;
}

const METHOD_TYPES = new Set<string>(PAYMENT_METHOD_TYPES);

/** `wallet` captures are paid from the wallet balance; others by the saved method's kind. */
function methodTypeOf(row: PendingPurchaseRow): string {
  if (row.provider === 'wallet') return 'wallet_balance';
  return row.method_kind && METHOD_TYPES.has(row.method_kind) ? row.method_kind : UNKNOWN;
}

/**
 * Closes windows the watermark has passed: decides each purchase of an hour once, protects the
 * cells (docs/privacy.md), and publishes the survivors through the outbox in the same
 * transaction that marks the window closed, so each cell is published exactly once. Hours
 * close before the day they belong to; a day is built from its hours' decisions.
 */
@Injectable()
export class WindowCloser {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(AD_SIGNAL_SETTINGS) private readonly settings: AdSignalSettings,
    @Inject(NOISE_SOURCE) private readonly noise: NoiseSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Closes every window that is due; the periodic closer and tests call this. */
  async closeDueWindows(): Promise<CloseReport> {
    const watermark = watermarkFrom(await latestEventTime(sqlOfPool(this.dataSource)), this.settings.graceMs);
    const report: CloseReport = { hoursClosed: 0, daysClosed: 0, cellsPublished: 0, cellsSuppressed: 0 };
    if (watermark === undefined) return report;
    report.watermark = isoOf(watermark);
    const at = new Date(watermark).toISOString();
    const hours = await this.dataSource.query<{ start: Date }[]>(
      `SELECT DISTINCT hour_start AS start FROM purchases WHERE status = 'pending' AND hour_start + interval '1 hour' <= $1 ORDER BY 1`,
      [at],
    );
    for (const { start } of hours) {
      const cells = await inTransaction(this.dataSource, (sql) => this.closeHour(sql, windowStarting('hour', start.getTime()), watermark));
      if (cells) this.count(report, cells, 'hour');
    }
    const days = await this.dataSource.query<{ start: Date }[]>(
      `SELECT DISTINCT p.day_start AS start FROM purchases p
        WHERE p.status <> 'late' AND p.day_start + interval '1 day' <= $1
          AND NOT EXISTS (SELECT 1 FROM closed_windows c WHERE c.granularity = 'day' AND c.window_start = p.day_start)
        ORDER BY 1`,
      [at],
    );
    for (const { start } of days) {
      const cells = await inTransaction(this.dataSource, (sql) => this.closeDay(sql, windowStarting('day', start.getTime()), watermark, report));
      if (cells) this.count(report, cells, 'day');
    }
    await this.purge(watermark);
    if (report.hoursClosed + report.daysClosed > 0) this.logger.info({ ...report }, 'closed ad-signal windows');
    return report;
  }

  private count(report: CloseReport, cells: CellDecision[], granularity: 'hour' | 'day'): void {
    if (granularity === 'hour') report.hoursClosed += 1;
    else report.daysClosed += 1;
    for (const cell of cells) {
      if (cell.status === 'published') report.cellsPublished += 1;
      else report.cellsSuppressed += 1;
    }
  }

  /** Returns the hour's cells, or undefined when it was closed already. */
  private async closeHour(sql: Sql, hour: TimeWindow, watermark: number): Promise<CellDecision[] | undefined> {
    const day = windowOf('day', hour.start);
    await lockWindow(sql, day, 'shared');
    await lockWindow(sql, hour, 'exclusive');
    if (await this.isClosed(sql, hour)) return undefined;
    const rows = await sql.query<PendingPurchaseRow>(
      `SELECT p.payment_key, p.person_key, p.merchant_id, p.occurred_at, p.app, p.country, p.merchant_category, p.provider, k.kind AS method_kind,
              p.amount_bucket, p.amount::text AS amount, p.currency,
              coalesce((SELECT sum(r.amount) FROM refunds r WHERE r.payment_key = p.payment_key AND r.status = 'pending'), 0)::text AS refunded,
              coalesce((SELECT bool_or(r.full_refund) FROM refunds r WHERE r.payment_key = p.payment_key AND r.status = 'pending'), false) AS fully_refunded
         FROM purchases p LEFT JOIN payment_method_kinds k ON k.method_id = p.method_id
        WHERE p.hour_start = $1 AND p.status = 'pending'
        ORDER BY p.payment_key
        FOR UPDATE OF p`,
      [isoOf(hour.start)],
    );
    const persons = [...new Set(rows.map((row) => row.person_key))];
    const consentRows = await sql.query<{ person_key: string; occurred_at: Date; sequence: number; granted: boolean }>(
      'SELECT person_key, occurred_at, sequence, granted FROM consent_changes WHERE person_key = ANY($1) AND occurred_at < $2',
      [persons, isoOf(hour.end)],
    );
    const timelines = new Map<string, ConsentTimeline>();
    for (const person of persons) {
      timelines.set(
        person,
        new ConsentTimeline(
          consentRows
            .filter((row) => row.person_key === person)
            .map((row) => ({ at: row.occurred_at.getTime(), sequence: row.sequence, granted: row.granted })),
        ),
      );
    }
    const earlier = await sql.query<{ person_key: string; merchant_id: string; counted: number }>(
      `SELECT person_key, merchant_id, count(*)::int AS counted FROM purchases
        WHERE day_start = $1 AND status = 'counted' AND person_key = ANY($2) GROUP BY person_key, merchant_id`,
      [isoOf(day.start), persons],
    );
    const methodTypes = new Map(rows.map((row) => [row.payment_key, methodTypeOf(row)]));
    const purchases: PurchaseFact[] = rows.map((row) => ({
      paymentKey: row.payment_key,
      personKey: row.person_key,
      merchantId: row.merchant_id,
      occurredAt: row.occurred_at.getTime(),
      dimensions: {
        app: row.app,
        country: row.country,
        merchantCategory: row.merchant_category,
        paymentMethodType: methodTypes.get(row.payment_key) as string,
        amountBucket: row.amount_bucket,
      },
      amount: BigInt(row.amount),
      currency: row.currency.trim(),
      refunded: BigInt(row.refunded),
      fullyRefunded: row.fully_refunded,
    }));
    const release = releaseHour({
      window: hour,
      purchases,
      consent: (person) => timelines.get(person) ?? new ConsentTimeline([]),
      countedEarlierToday: new Map(earlier.map((row) => [contributionKey(row.person_key, row.merchant_id), row.counted])),
      policy: this.settings.policy,
      noise: this.noise,
    });
    if (release.decisions.length > 0) {
      await sql.query(
        `UPDATE purchases p SET status = d.status, counted_amount = d.counted_amount::bigint, payment_method_type = d.method_type
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS d(payment_key, status, counted_amount, method_type)
          WHERE p.payment_key = d.payment_key`,
        [
          release.decisions.map((decided) => decided.fact.paymentKey),
          release.decisions.map((decided) => decided.decision),
          release.decisions.map((decided) => decided.countedAmount.toString()),
          release.decisions.map((decided) => decided.fact.dimensions.paymentMethodType),
        ],
      );
      await sql.query(`UPDATE refunds SET status = 'applied' WHERE payment_key = ANY($1) AND status = 'pending'`, [rows.map((row) => row.payment_key)]);
    }
    await this.record(sql, hour, release.cells, watermark);
    return release.cells;
  }

  private async closeDay(sql: Sql, day: TimeWindow, watermark: number, report: CloseReport): Promise<CellDecision[] | undefined> {
    await lockWindow(sql, day, 'exclusive');
    if (await this.isClosed(sql, day)) return undefined;
    // An hour may have received its first purchase after the hours were closed above: close it with the day.
    const pending = await sql.query<{ start: Date }>(
      `SELECT DISTINCT hour_start AS start FROM purchases WHERE day_start = $1 AND status = 'pending' ORDER BY 1`,
      [isoOf(day.start)],
    );
    for (const { start } of pending) {
      const cells = await this.closeHour(sql, windowStarting('hour', start.getTime()), watermark);
      if (cells) this.count(report, cells, 'hour');
    }
    const counted = await sql.query<{
      person_key: string;
      merchant_id: string;
      hour_start: Date;
      app: string;
      country: string;
      merchant_category: string;
      payment_method_type: string;
      amount_bucket: string;
      counted_amount: string;
      currency: string;
    }>(
      `SELECT person_key, merchant_id, hour_start, app, country, merchant_category, payment_method_type, amount_bucket, counted_amount::text AS counted_amount, currency
         FROM purchases WHERE day_start = $1 AND status = 'counted'`,
      [isoOf(day.start)],
    );
    const contributions: Contribution[] = counted.map((row) => ({
      personKey: row.person_key,
      merchantId: row.merchant_id,
      hourStart: row.hour_start.getTime(),
      dimensions: {
        app: row.app,
        country: row.country,
        merchantCategory: row.merchant_category,
        paymentMethodType: row.payment_method_type,
        amountBucket: row.amount_bucket,
      },
      amount: BigInt(row.counted_amount),
      currency: row.currency.trim(),
    }));
    const hourCells = await sql.query<{ window_start: Date; merchant_id: string; dimensions_key: string; status: 'published' | 'suppressed' }>(
      `SELECT window_start, merchant_id, dimensions_key, status FROM window_cells WHERE granularity = 'hour' AND window_start >= $1 AND window_start < $2`,
      [isoOf(day.start), isoOf(day.end)],
    );
    const cells = releaseDay({
      window: day,
      contributions,
      hourStatuses: new Map(hourCells.map((row) => [hourStatusKey(row.window_start.getTime(), row.merchant_id, row.dimensions_key), row.status])),
      policy: this.settings.policy,
      noise: this.noise,
    });
    await this.record(sql, day, cells, watermark);
    return cells;
  }

  private async isClosed(sql: Sql, window: TimeWindow): Promise<boolean> {
    const rows = await sql.query<unknown>('SELECT 1 FROM closed_windows WHERE granularity = $1 AND window_start = $2', [
      window.granularity,
      isoOf(window.start),
    ]);
    return rows.length > 0;
  }

  /** The cells, their events (through the outbox) and the window's closing: one transaction. */
  private async record(sql: Sql, window: TimeWindow, cells: CellDecision[], watermark: number): Promise<void> {
    if (cells.length > 0) {
      await sql.query(
        `INSERT INTO window_cells (granularity, window_start, merchant_id, dimensions_key, cell_id, status, reason, aggregate)
         SELECT $1, $2, c.merchant_id, c.dimensions_key, c.cell_id::uuid, c.status, c.reason, c.aggregate::jsonb
           FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS c(merchant_id, dimensions_key, cell_id, status, reason, aggregate)`,
        [
          window.granularity,
          isoOf(window.start),
          cells.map((cell) => cell.merchantId),
          cells.map((cell) => dimensionsKey(cell.values)),
          cells.map((cell) => cell.cellId),
          cells.map((cell) => cell.status),
          cells.map((cell) => cell.reason ?? null),
          cells.map((cell) => (cell.aggregate ? JSON.stringify(cell.aggregate) : null)),
        ],
      );
    }
    const correlationId = windowCorrelationId(window);
    const published = cells.filter((cell) => cell.aggregate);
    // Deterministic id, subject, sequence, time and correlation: a replay writes the same bytes.
    const messages = published.map((cell) => ({
      topic: this.settings.topics.aggregates,
      envelope: createEvent({
        definition: AdSignalAggregatePublishedV1,
        source: 'ad-signal-aggregation',
        id: cell.cellId,
        subject: cell.seriesId,
        sequence: cell.sequence,
        occurredAt: new Date(window.end),
        correlationId,
        data: cell.aggregate as unknown as AdSignalAggregatePublished,
      }),
    }));
    for (let i = 0; i < messages.length; i += 500) await appendToOutbox(sql, messages.slice(i, i + 500));
    await sql.query('INSERT INTO closed_windows (granularity, window_start, watermark, cells_published, cells_suppressed) VALUES ($1, $2, $3, $4, $5)', [
      window.granularity,
      isoOf(window.start),
      isoOf(watermark),
      published.length,
      cells.length - published.length,
    ]);
  }

  /**
   * Data minimisation: purchase facts (and their refunds and initiations) go once their day has
   * been closed for the retention period; consent timelines keep only the last change before it;
   * suppressed cells' rows go with their facts. Published cells stay for the query API.
   */
  private async purge(watermark: number): Promise<void> {
    const cutoff = isoOf(windowOf('day', watermark - this.settings.retentionDays * 86_400_000).start);
    await inTransaction(this.dataSource, async (sql) => {
      await sql.query(
        `DELETE FROM payment_contexts c USING purchases p
          WHERE p.payment_key = c.payment_key AND p.day_start < $1
            AND EXISTS (SELECT 1 FROM closed_windows w WHERE w.granularity = 'day' AND w.window_start = p.day_start)`,
        [cutoff],
      );
      await sql.query(
        `DELETE FROM purchases p WHERE p.day_start < $1
            AND EXISTS (SELECT 1 FROM closed_windows w WHERE w.granularity = 'day' AND w.window_start = p.day_start)`,
        [cutoff],
      );
      // Initiations never captured (declined, abandoned): by wall-clock age, well past any capture.
      await sql.query(`DELETE FROM payment_contexts WHERE recorded_at < now() - make_interval(days => $1)`, [this.settings.retentionDays * 4]);
      await sql.query(
        `DELETE FROM consent_changes c WHERE c.occurred_at < $1
            AND EXISTS (SELECT 1 FROM consent_changes n WHERE n.person_key = c.person_key AND n.occurred_at < $1
                           AND (n.occurred_at, n.sequence, n.event_id) > (c.occurred_at, c.sequence, c.event_id))`,
        [cutoff],
      );
      await sql.query(`DELETE FROM window_cells WHERE status = 'suppressed' AND window_start < $1`, [cutoff]);
    });
  }
}
