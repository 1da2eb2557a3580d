import type { Sql } from '@pay/platform';

export type VersionState = 'building' | 'live' | 'retired';

export interface ReadModelVersion {
  version: number;
  state: VersionState;
  checkpointTx: string | null;
  checkpointPosition: string | null;
  eventsApplied: number;
  indexed: boolean;
  startedAt: string;
  liveSince: string | null;
  retiredAt: string | null;
}

/**
 * The version the live consumer projects into, read FOR SHARE: a switch (which takes the row
 * FOR UPDATE) waits for this transaction, and this transaction waits for a switch in progress.
 */
export async function lockLiveVersion(sql: Sql): Promise<number> {
  const rows = await sql.query<{ live_version: number }>('SELECT live_version FROM read_model_pointer FOR SHARE');
  if (rows.length === 0) throw new Error('read_model_pointer is empty: run the history-projection migrations');
  return Number(rows[0].live_version);
}

export async function liveVersion(sql: Sql): Promise<number> {
  const rows = await sql.query<{ live_version: number }>('SELECT live_version FROM read_model_pointer');
  if (rows.length === 0) throw new Error('read_model_pointer is empty: run the history-projection migrations');
  return Number(rows[0].live_version);
}

export async function listVersions(sql: Sql): Promise<ReadModelVersion[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT version, state, checkpoint_tx::text AS checkpoint_tx, checkpoint_position::text AS checkpoint_position, events_applied,
            indexed, started_at, live_since, retired_at
     FROM read_model_versions ORDER BY version`,
  );
  const iso = (value: unknown): string | null => (value === null || value === undefined ? null : new Date(value as string).toISOString());
  return rows.map((r) => ({
    version: Number(r.version),
    state: r.state as VersionState,
    checkpointTx: (r.checkpoint_tx as string | null) ?? null,
    checkpointPosition: (r.checkpoint_position as string | null) ?? null,
    eventsApplied: Number(r.events_applied),
    indexed: Boolean(r.indexed),
    startedAt: iso(r.started_at)!,
    liveSince: iso(r.live_since),
    retiredAt: iso(r.retired_at),
  }));
}

/**
 * Which version serves queries, cached for a moment: a switch is seen within `ttlMs`, and the
 * retired version stays in place long after, so a query that read the old pointer still works.
 */
export class LiveVersionCache {
  private cached?: { version: number; at: number };

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = 1_000,
  ) {}

  async current(): Promise<number> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached.version;
    const version = await liveVersion(this.sql);
    this.cached = { version, at: now };
    return version;
  }
}
