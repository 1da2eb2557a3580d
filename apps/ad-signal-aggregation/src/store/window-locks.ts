import type { Sql } from '@pay/platform';
import type { TimeWindow } from '@pay/ad-signals-domain';
import { windowNumber } from '@pay/ad-signals-domain';

/**
 * A window is closed under an exclusive advisory lock; recording an event into it takes the
 * same lock shared. So an event is either in the window when it closes, or sees it closed and
 * becomes a late correction: never half-way. Locks are always taken day before hour (no
 * deadlock), and keyed by the schema, so two deployments in one database do not wait on each other.
 */
export async function lockWindow(sql: Sql, window: TimeWindow, mode: 'shared' | 'exclusive'): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await sql.query(`SELECT ${fn}(hashtext(current_schema() || ':ad-signals:' || $1::text), $2::integer)`, [window.granularity, windowNumber(window)]);
}

/** Which of the given windows are closed already. */
export async function closedAmong(sql: Sql, windows: readonly TimeWindow[]): Promise<Set<string>> {
  const rows = await sql.query<{ granularity: string }>(
    'SELECT granularity FROM closed_windows WHERE (granularity, window_start) IN (SELECT * FROM unnest($1::text[], $2::timestamptz[]))',
    [windows.map((window) => window.granularity), windows.map((window) => new Date(window.start).toISOString())],
  );
  return new Set(rows.map((row) => row.granularity));
}

export interface Correction {
  window: TimeWindow;
  merchantId: string;
  kind: 'late_purchase' | 'late_refund' | 'unmatched_refund' | 'late_consent';
  currency: string;
  events: number;
  amount: bigint;
}

/** Counts an event that came too late for its window, instead of dropping it silently. */
export async function recordCorrection(sql: Sql, correction: Correction): Promise<void> {
  await sql.query(
    `INSERT INTO late_event_corrections (window_start, merchant_id, kind, currency, events, amount) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (window_start, merchant_id, kind, currency)
     DO UPDATE SET events = late_event_corrections.events + EXCLUDED.events, amount = late_event_corrections.amount + EXCLUDED.amount, last_recorded_at = now()`,
    [
      new Date(correction.window.start).toISOString(),
      correction.merchantId,
      correction.kind,
      correction.currency,
      correction.events,
      correction.amount.toString(),
    ],
  );
}
