import type { Sql } from '@pay/platform';
import { inTransaction, sqlOfPool } from '@pay/platform';
import type { DataSource } from 'typeorm';
import type { ProjectableEvent } from '../project-events/projectable-event';
import { dropReadModelSql, readModelContent, readModelIndexesSql, readModelTablesSql } from '../read-model/read-model-tables';
import type { BatchState, PlannedBatch } from './replay-batch';
import { laterState, planBatch, replayBatch } from './replay-batch';

export type RebuildPhase = 'replaying' | 'indexing' | 'catching-up' | 'switching' | 'done';

export interface RebuildProgress {
  version: number;
  phase: RebuildPhase;
  eventsDone: number;
  /** Events stored so far (it grows while live events arrive). */
  eventsTotal: number;
  eventsPerSecond: number;
  secondsLeft: number | null;
  resumed: boolean;
}

export interface RebuildOptions {
  dataSource: DataSource;
  /** Events read, and projected in one transaction, at a time (default 20,000). */
  batchSize?: number;
  /** Throw away an unfinished build and start again from the first event. */
  restart?: boolean;
  /** Retired versions to keep after the switch (default 1: the one just replaced, for a quick way back). */
  keepRetired?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** Milliseconds between progress reports (default 1,000). */
  progressIntervalMs?: number;
  /** For tests: stop dead after this many batches, as a crash would. */
  crashAfterBatches?: number;
}

export interface RebuildResult {
  version: number;
  previousVersion: number;
  resumed: boolean;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  droppedVersions: number[];
}

export class RebuildAlreadyRunningError extends Error {
  override name = 'RebuildAlreadyRunningError';
}

export class SimulatedCrash extends Error {
  override name = 'SimulatedCrash';
}

/** Batches written at once, each in its own transaction on its own connection (see startBatchWrite). */
const CONCURRENT_WRITES = 2;
/** Sort memory of a replay transaction (a batch of 20,000 events sorts ~10 MB of rows). */
const REPLAY_WORK_MEM = '64MB';
/** Sort memory of each of the two index builds at the end of a replay (the largest sorts ~40 MB). */
const INDEX_BUILD_MEMORY = '256MB';

interface Checkpoint {
  tx: string | null;
  position: string | null;
}

export interface RawEventRow {
  position: string;
  tx_id: string;
  event: ProjectableEvent;
}

/**
 * Reads stored events after the checkpoint in (tx_id, position) order. Outside the switch only
 * rows of transactions older than every running one are read (`tx_id < xmin`): a transaction
 * that took a lower position but commits later is waited for, never skipped.
 */
async function readBatch(sql: Sql, checkpoint: Checkpoint, limit: number, waitForRunning: boolean): Promise<RawEventRow[]> {
  const conditions: string[] = [];
  const values: unknown[] = [];
  if (checkpoint.tx !== null && checkpoint.position !== null) {
    values.push(checkpoint.tx, checkpoint.position);
    conditions.push('(tx_id, position) > ($1::xid8, $2::bigint)');
  }
  if (waitForRunning) conditions.push('tx_id < pg_snapshot_xmin(pg_current_snapshot())');
  values.push(limit);
  // Only what the folds read: PostgreSQL renders, and Node parses, the data alone rather than the
  // whole envelope (ids, source, version, causation and correlation are a third of its text).
  // The text forms get other names: ORDER BY an output name would sort text ('10242' < '9800').
  const rows = await sql.query<{ position_text: string; tx_text: string; type: string; subject: string; sequence: number; occurred_at: string; data: object }>(
    `SELECT position::text AS position_text, tx_id::text AS tx_text, type, envelope->>'subject' AS subject,
            (envelope->'sequence')::float8 AS sequence, envelope->>'occurredAt' AS occurred_at, envelope->'data' AS data
     FROM raw_events
     ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
     ORDER BY tx_id, position LIMIT $${values.length}`,
    values,
  );
  return rows.map((r) => ({
    position: r.position_text,
    tx_id: r.tx_text,
    event: { type: r.type, subject: r.subject, sequence: r.sequence, occurredAt: r.occurred_at, data: r.data },
  }));
}

function lastOf(rows: readonly RawEventRow[]): Checkpoint | undefined {
  const last = rows[rows.length - 1];
  return last ? { tx: last.tx_id, position: last.position } : undefined;
}

/**
 * Moves the checkpoint from `after` (where the batch starts) to the batch's last event. A batch
 * written while the one before is still open waits here for that one's commit (the row is
 * locked), and finds the checkpoint it expects only if that one committed.
 */
async function saveCheckpoint(sql: Sql, version: number, rows: readonly RawEventRow[], after: Checkpoint): Promise<Checkpoint> {
  const last = rows[rows.length - 1];
  // Locked first, then compared: an UPDATE whose condition fails on the committed row would not wait.
  const [saved] = await sql.query<{ tx: string | null; position: string | null }>(
    `SELECT checkpoint_tx::text AS tx, checkpoint_position::text AS position FROM read_model_versions
     WHERE version = $1 AND state = 'building' FOR UPDATE`,
    [version],
  );
  if (!saved || saved.tx !== after.tx || saved.position !== after.position) {
    throw new Error(`rebuild of version ${version}: the batch before this one did not commit; run the rebuild again to resume`);
  }
  await sql.query(
    `UPDATE read_model_versions SET checkpoint_tx = $2::xid8, checkpoint_position = $3, events_applied = events_applied + $4 WHERE version = $1`,
    [version, last.tx_id, last.position, rows.length],
  );
  return { tx: last.tx_id, position: last.position };
}

/** Projects a batch and saves its checkpoint in the caller's transaction: the checkpoint always names exactly what the version holds. */
async function applyBatch(sql: Sql, version: number, rows: readonly RawEventRow[], after: Checkpoint): Promise<Checkpoint> {
  await replayBatch(
    sql,
    version,
    rows.map((r) => r.event),
  );
  return saveCheckpoint(sql, version, rows, after);
}

/** A batch of the replay being written: its commit, when each of its steps is done, and its rows. */
interface BatchWrite {
  committed: Promise<Checkpoint>;
  stepsDone: ReadonlyArray<Promise<void>>;
  state: BatchState;
}

/**
 * A planned batch of the replay written with its checkpoint in its own transaction, whose commit
 * does not wait for the disk: after a crash of PostgreSQL the commits that survive are a prefix
 * of those made (the WAL is replayed in order), so the surviving checkpoint still matches the
 * surviving rows and the next run resumes from it. The switch, and the live version's
 * transactions, keep waiting for the disk.
 *
 * It may start while the batch before (`before`) is still being written, on another connection:
 * each step starts once the same step of the batch before is done, so the two lock rows table
 * by table in the same order and only ever wait for the earlier one (a row both write, a daily
 * total); the checkpoint makes it commit after that one, and only if that one committed.
 */
function startBatchWrite(
  dataSource: DataSource,
  version: number,
  plan: PlannedBatch,
  rows: readonly RawEventRow[],
  after: Checkpoint,
  before: BatchWrite | undefined,
): BatchWrite {
  let checkpoint: Checkpoint | undefined;
  // The checkpoint is the last step: locked by this batch until it commits.
  const steps = [...plan.steps, async (sql: Sql) => void (checkpoint = await saveCheckpoint(sql, version, rows, after))];
  const finished: Array<() => void> = [];
  const stepsDone = steps.map(() => new Promise<void>((resolve) => finished.push(resolve)));
  const committed = inTransaction(dataSource, async (sql) => {
    await sql.query('SET LOCAL synchronous_commit = off');
    // The multi-row writes sort a batch's rows by key: in memory, not through temporary files.
    await sql.query(`SET LOCAL work_mem = '${REPLAY_WORK_MEM}'`);
    for (const [index, step] of steps.entries()) {
      if (before) await before.stepsDone[index];
      await step(sql);
      finished[index]();
    }
    return checkpoint!;
  }).finally(() => {
    // Failed or not, the next batch's steps need not wait for this one any more.
    for (const finish of finished) finish();
  });
  // Observed here so that a failure while later batches are planned is not "unhandled"; awaited by the replay.
  committed.catch(() => undefined);
  return { committed, stepsDone, state: plan.state };
}

/**
 * Replays every stored event into a new version of the read tables while the live version
 * keeps serving and the live consumer keeps projecting into it; then switches the pointer in
 * one transaction. Each batch is projected with its checkpoint in one transaction while the
 * next batch is being read: a crash leaves the live version untouched and the next run resumes
 * after the last committed batch.
 */
export async function rebuildReadModel(options: RebuildOptions): Promise<RebuildResult> {
  const { dataSource } = options;
  const batchSize = options.batchSize ?? 20_000;
  const lockHolder = dataSource.createQueryRunner();
  await lockHolder.connect();
  try {
    const [{ locked }] = (await lockHolder.query("SELECT pg_try_advisory_lock(hashtext('history-rebuild:' || current_schema())) AS locked")) as Array<{
      locked: boolean;
    }>;
    if (!locked) throw new RebuildAlreadyRunningError('another history rebuild is running on this schema; wait for it, or stop it first');
    try {
      return await rebuild(options, dataSource, batchSize);
    } finally {
      await lockHolder.query("SELECT pg_advisory_unlock(hashtext('history-rebuild:' || current_schema()))");
    }
  } finally {
    await lockHolder.release();
  }
}

async function startOrResume(
  dataSource: DataSource,
  restart: boolean,
): Promise<{ version: number; checkpoint: Checkpoint; eventsApplied: number; indexed: boolean; resumed: boolean }> {
  return inTransaction(dataSource, async (sql) => {
    await sql.query('LOCK TABLE read_model_versions IN EXCLUSIVE MODE');
    const [building] = await sql.query<{
      version: number;
      checkpoint_tx: string | null;
      checkpoint_position: string | null;
      events_applied: string;
      indexed: boolean;
    }>(
      `SELECT version, checkpoint_tx::text AS checkpoint_tx, checkpoint_position::text AS checkpoint_position, events_applied::text AS events_applied, indexed
       FROM read_model_versions WHERE state = 'building'`,
    );
    if (building && !restart) {
      return {
        version: Number(building.version),
        checkpoint: { tx: building.checkpoint_tx, position: building.checkpoint_position },
        eventsApplied: Number(building.events_applied),
        indexed: building.indexed,
        resumed: true,
      };
    }
    if (building) {
      await sql.query(dropReadModelSql(Number(building.version)));
      await sql.query('DELETE FROM read_model_versions WHERE version = $1', [building.version]);
    }
    const [{ next }] = await sql.query<{ next: number }>('SELECT coalesce(max(version), 0) + 1 AS next FROM read_model_versions');
    const version = Number(next);
    // Leftovers of a version number used before (dropped rows, not tables) must not leak in.
    await sql.query(dropReadModelSql(version));
    for (const statement of readModelTablesSql(version)) await sql.query(statement);
    await sql.query("INSERT INTO read_model_versions (version, state) VALUES ($1, 'building')", [version]);
    return { version, checkpoint: { tx: null, position: null }, eventsApplied: 0, indexed: false, resumed: false };
  });
}

async function rebuild(options: RebuildOptions, dataSource: DataSource, batchSize: number): Promise<RebuildResult> {
  const started = performance.now();
  const state = await startOrResume(dataSource, options.restart ?? false);
  const { version, resumed } = state;
  let checkpoint = state.checkpoint;
  let done = state.eventsApplied;
  let doneThisRun = 0;
  let batches = 0;
  let total = await storedEvents(dataSource);
  let lastReport = 0;
  let lastCount = performance.now();
  const report = (phase: RebuildPhase, force = false): void => {
    const now = performance.now();
    if (!options.onProgress || (!force && now - lastReport < (options.progressIntervalMs ?? 1_000))) return;
    lastReport = now;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? doneThisRun / seconds : 0;
    const left = Math.max(0, total - done);
    options.onProgress({
      version,
      phase,
      eventsDone: done,
      eventsTotal: Math.max(total, done),
      eventsPerSecond: Math.round(rate),
      secondsLeft: rate > 0 ? Math.round(left / rate) : null,
      resumed,
    });
  };

  // Stages overlap: reading batch N+2, planning batch N+1 (reads and folds, in Node) and writing
  // batches N-1 and N (in PostgreSQL, on two connections). Writes commit one after the other,
  // each with its checkpoint; batch N+1 takes what batches N-1 and N write from their plans, and
  // the rest is committed already.
  const pool = sqlOfPool(dataSource);
  const replay = async (phase: RebuildPhase, stopBelow: number): Promise<void> => {
    let next = readBatch(pool, checkpoint, batchSize, true);
    const writing: BatchWrite[] = [];
    let queuedUpTo = checkpoint;
    const writtenDownTo = async (inFlight: number): Promise<void> => {
      while (writing.length > inFlight) checkpoint = await writing.shift()!.committed;
    };
    const written = (): Promise<void> => writtenDownTo(0);
    try {
      for (;;) {
        const rows = await next;
        if (rows.length >= stopBelow) next = readBatch(pool, lastOf(rows) ?? checkpoint, batchSize, true);
        if (rows.length > 0) {
          const [older, newer] = writing.length === 2 ? writing : [undefined, writing[0]];
          const plan = await planBatch(
            pool,
            version,
            rows.map((r) => r.event),
            newer ? laterState(older?.state, newer.state) : undefined,
          );
          // The batch planned next takes rows from the two batches before it: the one before those has committed.
          await writtenDownTo(CONCURRENT_WRITES - 1);
          writing.push(startBatchWrite(dataSource, version, plan, rows, queuedUpTo, writing[writing.length - 1]));
          queuedUpTo = lastOf(rows)!;
        }
        const applied = rows.length;
        done += applied;
        doneThisRun += applied;
        batches += 1;
        if (options.crashAfterBatches !== undefined && batches >= options.crashAfterBatches) {
          await written();
          throw new SimulatedCrash(`stopped after ${batches} batches, as a crash would`);
        }
        if (performance.now() - lastCount > 10_000) {
          total = await storedEvents(dataSource);
          lastCount = performance.now();
        }
        report(phase);
        if (applied < stopBelow) return await written();
      }
    } finally {
      // After a failure: the read ahead must not fail unobserved, and a write in flight ends
      // (committed or not) before the rebuild lets go of its lock.
      next.catch(() => undefined);
      for (const write of writing) await write.committed.catch(() => undefined);
    }
  };

  report('replaying', true);
  await replay('replaying', batchSize);
  if (!state.indexed) {
    report('indexing', true);
    await buildIndexes(dataSource, version);
    await dataSource.query('UPDATE read_model_versions SET indexed = true WHERE version = $1', [version]);
  }
  // Events that arrived meanwhile, until what is left is small enough to take under the lock.
  await replay('catching-up', Math.max(1, Math.floor(batchSize / 10)));

  report('switching', true);
  const previousVersion = await inTransaction(dataSource, async (sql) => {
    // Waits for live transactions projecting into the old version, and holds back new ones.
    const [pointer] = await sql.query<{ live_version: number }>('SELECT live_version FROM read_model_pointer FOR UPDATE');
    for (;;) {
      // Every live transaction now waits for this one: what is committed is all there is.
      const rows = await readBatch(sql, checkpoint, batchSize, false);
      if (rows.length === 0) break;
      checkpoint = await applyBatch(sql, version, rows, checkpoint);
      done += rows.length;
      doneThisRun += rows.length;
    }
    const previous = Number(pointer.live_version);
    await sql.query('UPDATE read_model_pointer SET live_version = $1, switched_at = now()', [version]);
    await sql.query("UPDATE read_model_versions SET state = 'retired', retired_at = now() WHERE version = $1", [previous]);
    await sql.query("UPDATE read_model_versions SET state = 'live', live_since = now() WHERE version = $1", [version]);
    return previous;
  });

  const droppedVersions = await dropOldVersions(dataSource, options.keepRetired ?? 1);
  total = Math.max(total, done);
  report('done', true);
  const seconds = (performance.now() - started) / 1000;
  return {
    version,
    previousVersion,
    resumed,
    events: doneThisRun,
    seconds,
    eventsPerSecond: seconds > 0 ? Math.round(doneThisRun / seconds) : 0,
    droppedVersions,
  };
}

/**
 * The version's secondary indexes and statistics, two statements at a time on two connections
 * (each index build is one sort on one core), each sort with room enough to stay in memory.
 */
async function buildIndexes(dataSource: DataSource, version: number): Promise<void> {
  const statements = [...readModelIndexesSql(version), ...readModelContent(version).map(({ table }) => `ANALYZE ${table}`)];
  const lane = async (): Promise<void> => {
    for (let statement = statements.shift(); statement !== undefined; statement = statements.shift()) {
      await inTransaction(dataSource, async (sql) => {
        await sql.query(`SET LOCAL maintenance_work_mem = '${INDEX_BUILD_MEMORY}'`);
        await sql.query(statement);
      });
    }
  };
  await Promise.all([lane(), lane()]);
}

async function storedEvents(dataSource: DataSource): Promise<number> {
  const [row] = await dataSource.query<Array<{ n: string }>>('SELECT count(*)::text AS n FROM raw_events');
  return Number(row.n);
}

/** Drops retired versions but the `keep` most recently retired (a query that read the old pointer a moment ago still finds its tables). */
async function dropOldVersions(dataSource: DataSource, keep: number): Promise<number[]> {
  const retired = await dataSource.query<Array<{ version: number }>>(
    "SELECT version FROM read_model_versions WHERE state = 'retired' ORDER BY retired_at DESC, version DESC OFFSET $1",
    [Math.max(0, keep)],
  );
  const dropped: number[] = [];
  for (const { version } of retired) {
    await inTransaction(dataSource, async (sql) => {
      await sql.query(dropReadModelSql(Number(version)));
      await sql.query('DELETE FROM read_model_versions WHERE version = $1', [version]);
    });
    dropped.push(Number(version));
  }
  return dropped;
}

/** Per table of a version: row count and an order-free checksum of the rows' text, to compare two versions. */
export async function readModelChecksums(sql: Sql, version: number): Promise<Record<string, { rows: number; checksum: string }>> {
  const out: Record<string, { rows: number; checksum: string }> = {};
  for (const { table } of readModelContent(version)) {
    const [row] = await sql.query<{ rows: string; checksum: string | null }>(
      `SELECT count(*)::text AS rows, bit_xor(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint)::text AS checksum FROM ${table} t`,
    );
    out[table.replace(/_v\d+$/, '')] = { rows: Number(row.rows), checksum: row.checksum ?? '0' };
  }
  return out;
}
