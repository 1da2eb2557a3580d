import type { EventLoopDelayRecord, Logger } from '@pay/observability';
import { eventLoopDelayRecord, platformMetrics } from '@pay/observability';
import type { Message } from 'kafkajs';
import type { DataSource, QueryRunner } from 'typeorm';
import type { EventPublisher } from '../kafka/event-publisher';
import type { BackoffPolicy } from '../retry/backoff';
import { backoffDelayMs } from '../retry/backoff';
import { outboxChannel } from './outbox.schema';
import type { ChannelSubscription } from '../notifications/pg-notifications';
import { PgNotifications } from '../notifications/pg-notifications';
import type { NamedStatement, Sql } from '@pay/sql';
import { beginWith, commitWith, queryNamed, sqlOfPool } from '@pay/sql';

/** After a failed pass (the broker or the database out of reach): 200 ms, doubling, up to 5 s, jittered. */
const FAILED_PASS_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 5_000 };

export interface OutboxRelayOptions {
  /** Name of this relay's checkpoint row (one per outbox). */
  name: string;
  dataSource: DataSource;
  publisher: EventPublisher;
  logger: Logger;
  batchSize?: number;
  /**
   * How soon to look again while rows are committed but not yet publishable (an older
   * transaction of the cluster is still running) or another replica holds the checkpoint.
   */
  pendingRetryMs?: number;
  /** Poll interval when the outbox has no NOTIFY trigger (an outbox created without its migration) or while LISTEN is down. */
  idleDelayMs?: number;
  /**
   * The process's LISTEN connection (PgNotifications), shared with its other listeners; without it
   * the relay opens one of its own on the data source's URL.
   */
  notifications?: PgNotifications;
  /**
   * How long the relay may go without finishing a pass while work is known to wait (rows announced,
   * rows waiting for the horizon, a failing or locked-out pass) before it logs, once per episode,
   * what it is waiting on (see RelayPhase). Default 30 s: well past every timeout of its own
   * (pool 5 s, backoff 5 s), so a line means something hangs.
   */
  stuckAfterMs?: number;
}

/**
 * What the relay is doing, for the line it logs when it is stuck: a pass's steps (a connection from
 * the pool, the checkpoint and the read, Kafka's answer, the checkpoint's update and commit), the
 * horizon probe, a wait (for the horizon, for another replica's lock, a backoff after a failure,
 * the next poll while LISTEN is down), or asleep until a notification (the only phase in which it
 * has no work).
 */
type RelayPhase =
  | 'starting'
  | 'connecting'
  | 'reading'
  | 'sending'
  | 'advancing'
  | 'probing-horizon'
  | 'waiting-for-horizon'
  | 'waiting-for-lock'
  | 'backing-off'
  | 'polling'
  | 'asleep'
  | 'stopped';

interface OutboxRow {
  position: string;
  tx_id: string;
  topic: string;
  message_key: string;
  payload: unknown;
  headers: Record<string, string>;
}

/** A row of CHECKPOINT_AND_READ: the checkpoint, and an outbox row after it (all null when none follows). */
type CheckpointAndRow = { from_tx_id: string; from_position: string } & (
  (OutboxRow & { publishable: boolean }) | { [K in keyof OutboxRow | 'publishable']: null }
);

/** What one pass found: rows published, and whether rows are left that a later pass must take. */
interface Pass {
  published: number;
  pending: boolean;
  /**
   * The transaction id of the first row left because it is not publishable yet (an older
   * transaction of the cluster is still running): the next pass is worth its statements only
   * once the snapshot horizon has passed it.
   */
  waitingFor?: string;
  /** Another replica held the checkpoint's lock: nothing was read. */
  lockedOut?: boolean;
}

/** How often, at most, a pass that finds rows waiting for the horizon counts them for the backlog gauge. */
const BACKLOG_COUNT_INTERVAL_MS = 5_000;

/** One autocommitted statement: whether every transaction before `tx_id` has ended (its rows are publishable). */
// The relay's statements run at every pass: prepared once per connection (planning them cost
// PostgreSQL more than running them; docs/benchmarks.md, "Session 9").
const HORIZON_PASSED: NamedStatement = { name: 'outbox_relay_horizon', text: 'SELECT $1::xid8 < pg_snapshot_xmin(pg_current_snapshot()) AS passed' };
/**
 * The checkpoint and the batch after it, in one statement (one round trip per pass, one snapshot):
 * no row when another replica holds the checkpoint's lock; one row without an outbox row (`position`
 * null) when nothing follows the checkpoint; else one row per outbox row, at most `$2`.
 *
 * An advisory lock rather than FOR UPDATE: a row lock takes a transaction id, and the relay's
 * open transaction would then hold back every relay of the cluster (pg_snapshot_xmin) for as
 * long as Kafka takes to accept the batch. The id comes only with the checkpoint's UPDATE.
 *
 * ORDER BY names the rows' columns (`o.tx_id`): a bare `tx_id` would be the output column, the
 * id as text, and '10000' sorts before '9999' — the relay then read the rows of the later
 * transactions first whenever the ids gained a digit, and (before ADVANCE counted) passed the
 * others unpublished. By the columns, the index (tx_id, position) serves the order and the LIMIT.
 */
const CHECKPOINT_AND_READ: NamedStatement = {
  name: 'outbox_relay_checkpoint_and_read',
  text: `SELECT c.tx_id::text AS from_tx_id, c.position AS from_position,
                o.position, o.tx_id::text AS tx_id, o.topic, o.message_key, o.payload, o.headers,
                o.tx_id < pg_snapshot_xmin(pg_current_snapshot()) AS publishable
           FROM outbox_checkpoint c
           LEFT JOIN LATERAL (
                SELECT b.position, b.tx_id, b.topic, b.message_key, b.payload, b.headers
                  FROM outbox b
                 WHERE (b.tx_id, b.position) > (c.tx_id, c.position)
                 ORDER BY b.tx_id, b.position
                 LIMIT $2) o ON true
          WHERE c.relay = $1 AND pg_try_advisory_xact_lock(hashtext('outbox-relay:' || current_schema() || ':' || $1))
          ORDER BY o.tx_id, o.position`,
};
/**
 * Moves the checkpoint past the batch, sent with the transaction's COMMIT (commitWith): only if, in
 * this later snapshot, every row between the old checkpoint and the new one is a row of the batch
 * (`$6` of them). A row there that the READ did not return (its transaction was below the horizon,
 * so it should have been visible) would be passed unpublished for good; then no row is returned,
 * the checkpoint stays, and the pass fails (see pass()).
 */
const ADVANCE: NamedStatement = {
  name: 'outbox_relay_advance_if_covered',
  text: `UPDATE outbox_checkpoint SET tx_id = $2::xid8, position = $3::bigint, updated_at = now()
          WHERE relay = $1::text
            AND (SELECT count(*) FROM outbox
                  WHERE (tx_id, position) > ($4::xid8, $5::bigint) AND (tx_id, position) <= ($2::xid8, $3::bigint)) = $6::bigint
         RETURNING relay`,
};

/**
 * Publishes the outbox to Kafka in commit order, at least once (consumers deduplicate by
 * event id). Rows are read in (tx_id, position) order and only from transactions older than
 * every transaction still in flight, so a transaction that took a lower position but commits
 * later is waited for instead of skipped. A per-outbox advisory lock is held while a batch is
 * published, so two relay instances never publish the same outbox concurrently.
 *
 * It runs only when there is work: the outbox's trigger NOTIFYs on commit and the relay LISTENs
 * on a connection of its own. While committed rows wait for the snapshot horizon (or for
 * another replica) it looks again every `pendingRetryMs` (for the horizon, with one autocommitted
 * statement until it has passed, then a pass); once drained it sleeps, running no
 * statement, until the next notification. A lost LISTEN connection is reopened (PgNotifications,
 * polling meanwhile), followed by a catch-up pass for what was announced meanwhile.
 */
export class OutboxRelay {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  /** A notification (or a reconnect) arrived since the last pass began. */
  private announced = true;
  private subscription?: ChannelSubscription;
  /** Opened by the relay when none was given to it: closed with it. */
  private ownNotifications?: PgNotifications;
  private channel?: string;
  /** The pool, for the horizon probe (a statement on a connection of its own, prepared there). */
  private pool?: Sql;
  private sleepingUntilNotified = false;
  private backlogCountedAt = 0;
  /** The transaction id the relay waits for the horizon to pass before its next pass (see Pass.waitingFor). */
  private waitingFor?: string;
  /** Passes failed in a row (0: publishing), and since when. */
  private failures = 0;
  private failingSince = 0;
  /** Passes in a row that found another replica holding the checkpoint's lock. */
  private lockedOut = 0;
  private phase: RelayPhase = 'starting';
  private phaseSince = Date.now();
  /** When a pass last finished (or the relay fell asleep with nothing to do). */
  private progressAt = Date.now();
  private watchdog?: NodeJS.Timeout;
  /** The stuck episode already logged (its start), so each is logged once. */
  private reportedStuckSince?: number;
  /** The process's event-loop delays, for the stuck line: whether the relay waited for the CPU rather than for the database or Kafka. */
  private eventLoop?: EventLoopDelayRecord;
  published = 0;

  constructor(private readonly options: OutboxRelayOptions) {}

  async start(): Promise<void> {
    const [found] = await this.options.dataSource.query<{ schema: string; notifies: boolean }[]>(
      `SELECT current_schema() AS schema,
              EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'outbox'::regclass AND tgname = 'outbox_notify') AS notifies`,
    );
    if (found?.notifies) this.channel = outboxChannel(found.schema);
    else this.options.logger.warn({ relay: this.options.name }, 'the outbox has no NOTIFY trigger (migration missing): the relay polls');
    await this.options.dataSource.query(`INSERT INTO outbox_checkpoint (relay, tx_id, position) VALUES ($1, '0'::xid8, 0) ON CONFLICT (relay) DO NOTHING`, [
      this.options.name,
    ]);
    if (this.channel) {
      // A notification, LISTEN (back) in effect, or LISTEN lost (then it polls): a pass is due.
      const announce = (): void => {
        this.announced = true;
        this.wake?.();
      };
      this.subscription = await this.notifications().subscribe(this.channel, { notified: announce, listening: announce, lost: announce });
    }
    platformMetrics().outboxRelayFailing.set(0, { relay: this.options.name });
    this.eventLoop = eventLoopDelayRecord();
    this.running = true;
    this.announced = true;
    this.progressAt = Date.now();
    const stuckAfterMs = this.options.stuckAfterMs ?? 30_000;
    // In-memory only (no statement): a relay asleep with nothing to do is never "stuck".
    this.watchdog = setInterval(() => this.reportIfStuck(stuckAfterMs), Math.max(50, Math.min(5_000, Math.floor(stuckAfterMs / 3))));
    this.watchdog.unref();
    this.loop = this.run();
  }

  /** Stops after the batch in hand; a batch Kafka does not take within `timeoutMs` is left unpublished (its checkpoint stays). */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.running = false;
    clearInterval(this.watchdog);
    this.wake?.();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    const outcome = await Promise.race([this.loop, late]);
    clearTimeout(timer);
    if (outcome === 'late')
      this.options.logger.warn(
        { relay: this.options.name },
        'outbox relay stopped while Kafka had not taken its batch; it is published again at the next start',
      );
    await this.subscription?.close();
    this.subscription = undefined;
    await this.ownNotifications?.close();
    this.ownNotifications = undefined;
  }

  private notifications(): PgNotifications {
    if (this.options.notifications) return this.options.notifications;
    const url = (this.options.dataSource.options as { url?: string }).url;
    if (!url) throw new Error(`outbox relay ${this.options.name}: no PgNotifications given and the data source has no url to LISTEN on`);
    this.ownNotifications ??= new PgNotifications({ connectionString: url, applicationName: `outbox-relay-${this.options.name}`, logger: this.options.logger });
    return this.ownNotifications;
  }

  /** Drained and asleep until a notification: no timer is set and no statement runs. */
  get idle(): boolean {
    return this.sleepingUntilNotified;
  }

  /** Whether the relay is listening for notifications (false while polling or reconnecting). */
  get listening(): boolean {
    return this.subscription?.listening ?? false;
  }

  /** Publishes one batch; returns how many rows it published (0 when drained or another relay holds the lock). */
  async publishBatch(): Promise<number> {
    return (await this.pass()).published;
  }

  private async pass(): Promise<Pass> {
    this.enter('connecting');
    const runner = this.options.dataSource.createQueryRunner();
    await runner.connect();
    try {
      this.enter('reading');
      // The checkpoint, under an advisory lock (why not FOR UPDATE: at the statement), and the rows
      // after it: one row more than a batch, publishable or not, so that whether anything is left
      // after this batch (more rows, or rows waiting for the horizon) comes with it, not from another pass.
      // The transaction (READ COMMITTED, PostgreSQL's default) begins with it, in the same round trip.
      const batchSize = this.options.batchSize ?? 500;
      // Planned as PostgreSQL chooses (not `generic`): ADVANCE counts a range of the outbox, which is
      // never pruned, and a generic plan would take that range for a ninth of the table.
      const found = await beginWith<CheckpointAndRow>(runner, CHECKPOINT_AND_READ, [this.options.name, batchSize + 1]);
      if (found.length === 0) {
        // Another replica is publishing: look again soon, in case it stops half-way.
        await runner.rollbackTransaction();
        return { published: 0, pending: true, lockedOut: true };
      }
      const from = { tx_id: found[0].from_tx_id, position: found[0].from_position };
      const read = found[0].position === null ? [] : (found as (OutboxRow & { publishable: boolean })[]);
      // Ordered by transaction id: once one must wait for the horizon, every later one must too.
      const waitingAt = read.findIndex((row) => !row.publishable);
      const rows = (waitingAt < 0 ? read : read.slice(0, waitingAt)).slice(0, batchSize);
      const left = read.length > rows.length;
      // Committed rows above the horizon wait for older transactions, which announce nothing when
      // they end (they may belong to another schema): the loop watches the horizon for them.
      const waitingFor = waitingAt >= 0 ? read[waitingAt].tx_id : undefined;
      if (rows.length === 0) {
        // The backlog gauge: counted now and then while rows wait (a count per pass would cost a statement each time).
        if (!left) platformMetrics().outboxBacklog.set(0, { relay: this.options.name });
        else if (Date.now() - this.backlogCountedAt >= BACKLOG_COUNT_INTERVAL_MS) {
          const [counted] = (await runner.query(
            `SELECT count(*)::int AS waiting FROM (SELECT 1 FROM outbox WHERE (tx_id, position) > ($1::xid8, $2::bigint) LIMIT 10000) w`,
            [from.tx_id, from.position],
          )) as { waiting: number }[];
          this.backlogCountedAt = Date.now();
          platformMetrics().outboxBacklog.set(counted?.waiting ?? 0, { relay: this.options.name });
        }
        await runner.rollbackTransaction();
        return { published: 0, pending: left, ...(waitingFor ? { waitingFor } : {}) };
      }
      this.enter('sending');
      await this.options.publisher.sendRaw(groupByTopic(rows));
      this.enter('advancing');
      const last = rows[rows.length - 1];
      // The checkpoint's move and COMMIT in one round trip; the advisory lock ends with the transaction.
      const advanced = await commitWith(runner, ADVANCE, [this.options.name, last.tx_id, last.position, from.tx_id, from.position, rows.length]);
      if (advanced.length !== 1) await this.refuseToPassUnread(runner, from, last, rows);
      this.published += rows.length;
      platformMetrics().outboxPublished.add(rows.length, { relay: this.options.name });
      if (!left) platformMetrics().outboxBacklog.set(0, { relay: this.options.name });
      return { published: rows.length, pending: left, ...(waitingFor ? { waitingFor } : {}) };
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }

  /**
   * The checkpoint would pass rows the batch's READ did not return: logs them (what an operator
   * needs to find why: their transactions and states) and fails the pass, so the checkpoint stays
   * and the next pass publishes the range again, those rows with it (the batch's own rows a second
   * time: consumers deduplicate by event id).
   */
  private async refuseToPassUnread(
    runner: QueryRunner,
    from: { tx_id: string; position: string },
    last: OutboxRow,
    rows: readonly OutboxRow[],
  ): Promise<never> {
    const unread = (await runner.query(
      `SELECT o.position::text AS position, o.tx_id::text AS tx_id, pg_xact_status(o.tx_id) AS status, o.created_at
         FROM outbox o
        WHERE (o.tx_id, o.position) > ($1::xid8, $2::bigint) AND (o.tx_id, o.position) <= ($3::xid8, $4::bigint) AND NOT (o.position = ANY($5::bigint[]))
        ORDER BY o.tx_id, o.position LIMIT 50`,
      [from.tx_id, from.position, last.tx_id, last.position, rows.map((row) => row.position)],
    )) as { position: string; tx_id: string; status: string; created_at: Date }[];
    this.options.logger.error(
      { relay: this.options.name, from, to: { tx_id: last.tx_id, position: last.position }, read: rows.length, unread },
      'outbox relay: rows it did not read lie behind the batch it published; the checkpoint stays, and the next pass publishes them',
    );
    throw new Error(`outbox relay ${this.options.name}: ${unread.length} row(s) behind the batch were not read; the checkpoint was not moved`);
  }

  /** Rows written but not yet published: the backlog an operator watches. */
  async backlog(): Promise<number> {
    const rows: { backlog: string }[] = await this.options.dataSource.query(
      `SELECT count(*) AS backlog FROM outbox o, outbox_checkpoint c
        WHERE c.relay = $1 AND (o.tx_id, o.position) > (c.tx_id, c.position)`,
      [this.options.name],
    );
    return Number(rows[0]?.backlog ?? 0);
  }

  /**
   * One log line per change between publishing and failing, not one per attempt: the first failed
   * pass is an error (with why), the passes that fail after it are only counted
   * (`outbox_publish_attempts_total{outcome="failed"}`) and logged at debug, and the first pass that
   * works again logs the recovery (how many attempts failed, for how long). `outbox_relay_failing`
   * is 1 while it fails.
   */
  private noteFailure(error: unknown): void {
    this.failures += 1;
    const metrics = platformMetrics();
    metrics.outboxPublishAttempts.add(1, { relay: this.options.name, outcome: 'failed' });
    if (this.failures === 1) {
      this.failingSince = Date.now();
      metrics.outboxRelayFailing.set(1, { relay: this.options.name });
      this.options.logger.error(
        { err: error, relay: this.options.name, state: 'failing' },
        'outbox relay cannot publish: it retries with backoff and logs again once it recovers',
      );
    } else this.options.logger.debug({ err: error, relay: this.options.name, failures: this.failures }, 'outbox relay failed to publish again');
  }

  private noteSuccess(published: number): void {
    if (published > 0) platformMetrics().outboxPublishAttempts.add(1, { relay: this.options.name, outcome: 'published' });
    if (this.failures === 0) return;
    platformMetrics().outboxRelayFailing.set(0, { relay: this.options.name });
    this.options.logger.info(
      { relay: this.options.name, state: 'publishing', failedAttempts: this.failures, failingForMs: Date.now() - this.failingSince },
      'outbox relay recovered: publishing again',
    );
    this.failures = 0;
  }

  private async run(): Promise<void> {
    while (this.running) {
      // Without notifications (no trigger, LISTEN down) publishing goes on by polling.
      const polling = !this.listening;
      let delay: number | undefined;
      let waiting: RelayPhase = 'waiting-for-horizon';
      try {
        if (this.waitingFor !== undefined) {
          // Rows wait for the horizon: one cheap statement tells when the next pass can take them.
          this.enter('probing-horizon');
          if (await this.horizonPassed(this.waitingFor)) this.waitingFor = undefined;
          else [delay, waiting] = [this.options.pendingRetryMs ?? 50, 'waiting-for-horizon'];
        } else if (this.announced || polling) {
          this.announced = false;
          const { published, pending, waitingFor, lockedOut } = await this.pass();
          // A pass locked out by another replica is no progress: 30 s of those means that one is stuck mid-pass.
          if (!lockedOut) this.progressAt = Date.now();
          this.lockedOut = lockedOut ? this.lockedOut + 1 : 0;
          this.noteSuccess(published);
          if (pending) this.announced = true;
          // A batch went out: more may follow at once. Rows waiting for the horizon: look again soon.
          if (waitingFor !== undefined) {
            this.waitingFor = waitingFor;
            [delay, waiting] = [this.options.pendingRetryMs ?? 50, 'waiting-for-horizon'];
          } else if (pending && published === 0) [delay, waiting] = [this.options.pendingRetryMs ?? 50, lockedOut ? 'waiting-for-lock' : 'waiting-for-horizon'];
          else if (!pending && polling) [delay, waiting] = [this.options.idleDelayMs ?? 50, 'polling'];
        }
      } catch (error) {
        this.noteFailure(error);
        this.announced = true;
        [delay, waiting] = [Math.round(backoffDelayMs(this.failures, FAILED_PASS_BACKOFF)), 'backing-off'];
      }
      if (this.announced && delay === undefined) continue;
      // Drained and listening: no timer, nothing runs until a notification (or stop()) wakes it.
      this.enter(delay === undefined ? 'asleep' : waiting);
      await this.sleep(delay);
      // Woken from that sleep: work waits from now, not from when it fell asleep (else a pass begun
      // after a quiet minute would be reported stuck while it runs; asleep, it is never reported).
      if (delay === undefined) this.progressAt = Date.now();
    }
    this.enter('stopped');
  }

  private enter(phase: RelayPhase): void {
    if (phase === this.phase) return;
    this.phase = phase;
    this.phaseSince = Date.now();
  }

  /**
   * Logs once per episode when work waits and no pass has finished for `stuckAfterMs`: the phase
   * the relay is in and since when, so a relay that stops publishing says where it stopped, and the
   * worst event-loop delay since its last pass (to within 5 s before it): a long one means the
   * process did not get the CPU, whatever the phase.
   */
  private reportIfStuck(stuckAfterMs: number): void {
    if (!this.running || this.phase === 'asleep' || this.phase === 'stopped') return;
    const now = Date.now();
    if (now - this.progressAt < stuckAfterMs || this.reportedStuckSince === this.progressAt) return;
    this.reportedStuckSince = this.progressAt;
    this.options.logger.error(
      {
        relay: this.options.name,
        phase: this.phase,
        phaseForMs: now - this.phaseSince,
        lastPassMsAgo: now - this.progressAt,
        failures: this.failures,
        lockedOut: this.lockedOut,
        waitingFor: this.waitingFor,
        listening: this.listening,
        eventLoopDelayMaxMs: Math.round(this.eventLoop?.worstSince(this.progressAt) ?? 0),
      },
      'outbox relay: no pass has finished for a while although work waits; it is stuck in the phase named here',
    );
  }

  private async horizonPassed(txId: string): Promise<boolean> {
    const [row] = await queryNamed<{ passed: boolean }>((this.pool ??= sqlOfPool(this.options.dataSource)), HORIZON_PASSED, [txId]);
    return row?.passed === true;
  }

  /** Sleeps until woken (a notification, stop()) or, with a delay, until it runs out. */
  private sleep(delay: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.running || (this.announced && delay === undefined)) return resolve();
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        this.sleepingUntilNotified = false;
        clearTimeout(timer);
        resolve();
      };
      if (delay !== undefined) timer = setTimeout(done, delay);
      this.sleepingUntilNotified = delay === undefined;
      const wake = (): void => done();
      this.wake = wake;
    });
  }
}

function groupByTopic(rows: OutboxRow[]): { topic: string; messages: Message[] }[] {
  const byTopic = new Map<string, Message[]>();
  for (const row of rows) {
    const messages = byTopic.get(row.topic) ?? [];
    const payload = row.payload as { id?: string; type?: string };
    messages.push({
      key: row.message_key,
      value: JSON.stringify(row.payload),
      headers: { ...row.headers, 'event-id': payload.id ?? '', 'event-type': payload.type ?? '' },
    });
    byTopic.set(row.topic, messages);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
