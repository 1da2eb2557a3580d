import { traceHeaders } from '@pay/observability';
import type { DataSource } from 'typeorm';
import { instanceLockName } from '@pay/messaging';
import type { NamedStatement, Sql } from '../database/sql';
import { onConnection, queryNamed } from '../database/sql';

/**
 * The steps a payment waits for, by name:
 * - `authorize`: create and confirm the card payment at the PSP;
 * - `refund:<refundId>`: ask the PSP for a requested refund;
 * - `confirm-funds`: the deadline of a transfer's reservation (void it if the wallet has not
 *   confirmed, re-send the post if it has not answered);
 * - `capture:<minor units>`, `void`: the merchant's decision about a manual authorisation.
 */
export type StepName = 'authorize' | 'confirm-funds' | `refund:${string}` | `capture:${string}` | 'void';

export interface ClaimedStep {
  readonly paymentId: string;
  readonly step: StepName;
  /** Attempts so far, this one included. */
  readonly attempts: number;
  /** The W3C trace context of whatever scheduled the step (empty when nothing was traced). */
  readonly traceContext?: Readonly<Record<string, string>>;
  /** The payment's row as the claim read it (PaymentEventStore.restoreKept), so the step need not read it again. */
  readonly payment?: unknown;
}

interface StepRow {
  payment_id: string;
  step: StepName;
  attempts: number;
  trace_context: Record<string, string> | null;
  payment: unknown;
}

const toClaimed = (row: StepRow): ClaimedStep => ({
  paymentId: row.payment_id,
  step: row.step,
  attempts: row.attempts,
  traceContext: row.trace_context ?? {},
  ...(row.payment ? { payment: row.payment } : {}),
});

/** What a claim returns of the payment's row, beside the step (see PaymentEventStore.restoreKept). */
const KEPT_PAYMENT = `(SELECT json_build_object('version', p.version, 'state', p.state, 'correlation_id', p.correlation_id, 'created_at', p.created_at)
                        FROM payments p WHERE p.payment_id = s.payment_id) AS payment`;

/** Claims announced steps together (those announced by one commit arrive together). */
const CLAIM_MANY: NamedStatement = {
  name: 'po_claim_steps',
  // Run on its own: planned once per connection, sent with its BEGIN and COMMIT (NamedStatement.plans).
  plans: 'generic',
  text: `UPDATE payment_steps s SET lease_until = now() + $3 * interval '1 millisecond', attempts = s.attempts + 1, leased_by = $4
           FROM unnest($1::text[], $2::text[]) AS c(payment_id, step)
          WHERE s.payment_id = c.payment_id AND s.step = c.step AND s.due_at <= now() AND (s.lease_until IS NULL OR s.lease_until < now())
          RETURNING s.payment_id, s.step, s.attempts, s.trace_context, ${KEPT_PAYMENT}`,
};

/**
 * Extends the leases of steps still running. `attempts` fences it: a claim increments it, so a
 * worker whose lease ran out and was taken over by another renews nothing (the step is no longer
 * its own) instead of extending the other's lease.
 */
const RENEW: NamedStatement = {
  name: 'po_renew_step_leases',
  text: `UPDATE payment_steps s SET lease_until = now() + $4 * interval '1 millisecond'
           FROM unnest($1::text[], $2::text[], $3::int[]) AS h(payment_id, step, attempts)
          WHERE s.payment_id = h.payment_id AND s.step = h.step AND s.attempts = h.attempts AND s.lease_until IS NOT NULL
          RETURNING s.payment_id, s.step, s.attempts`,
};

const COMPLETE: NamedStatement = { name: 'po_complete_step', text: 'DELETE FROM payment_steps WHERE payment_id = $1 AND step = $2' };

const SCHEDULE = `INSERT INTO payment_steps (payment_id, step, due_at, trace_context) VALUES ($1, $2, COALESCE($3::timestamptz, now()), $4::jsonb)
         ON CONFLICT (payment_id, step) DO UPDATE SET due_at = LEAST(payment_steps.due_at, EXCLUDED.due_at)`;

/**
 * Schedules a step (the earlier due time wins), announcing it on commit (NOTIFY is transactional) in the same round trip. A step
 * due later is announced too, with its due time, so a worker sleeping until its next known
 * deadline wakes for it in time.
 */
const SCHEDULE_ANNOUNCED: NamedStatement = {
  name: 'po_schedule_step_announced',
  text: `WITH scheduled AS (${SCHEDULE} RETURNING 1) SELECT pg_notify($5, $6) FROM scheduled`,
};

/** When a step other than the caller's own can next become claimable: its due time, or a lease's end if that is later. */
const NEXT_DUE: NamedStatement = {
  name: 'po_next_due_step',
  text: `SELECT (extract(epoch FROM min(GREATEST(due_at, COALESCE(lease_until, due_at)))) * 1000)::float8 AS next FROM payment_steps
          WHERE (payment_id, step) NOT IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
};

/**
 * Frees the leases of dead processes (PaymentSteps.releaseLeasesOfDeadProcesses): held by `$1` (this
 * instance, whose lock this process now holds: its previous process is dead), or by an instance whose
 * session advisory lock (`instanceLockName`, `$2` || the instance) no backend of this database holds.
 * pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
 */
const RELEASE_DEAD = `WITH held AS (
         SELECT (l.classid::int8 << 32) | l.objid::int8 AS key FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())),
       dead AS (
         SELECT payment_id, step, leased_by FROM payment_steps
          WHERE lease_until IS NOT NULL AND leased_by IS NOT NULL
            AND (leased_by = $1 OR hashtextextended($2 || leased_by, 0) NOT IN (SELECT key FROM held))
          FOR UPDATE SKIP LOCKED)
       UPDATE payment_steps s SET lease_until = NULL, leased_by = NULL FROM dead
        WHERE s.payment_id = dead.payment_id AND s.step = dead.step
       RETURNING dead.leased_by AS held_by`;

/** The instance a process runs as, while it holds that instance's lock (InstanceMemberships). */
export interface StepLeaseOwner {
  readonly instanceId: string;
  /** False once the process lost the lock (its connection dropped): its leases then name no instance. */
  readonly holdsLock: boolean;
  /** Calls `listener` once the lock is lost while the process lives. */
  onLost?(listener: () => void): void;
}

/** A step to schedule with its announcement, as PaymentSteps.scheduling makes it. */
export interface StepScheduling {
  readonly step: string;
  /** ISO time, or null: due now. */
  readonly dueAt: string | null;
  /** The active trace context (JSON of its W3C headers). */
  readonly traceContext: string;
  readonly channel: string;
  /** The NOTIFY payload (JSON of a StepAnnouncement). */
  readonly announcement: string;
}

/** What a worker's NOTIFY carries: the step, and its due time (epoch ms) when not due at once. */
export interface StepAnnouncement {
  readonly paymentId: string;
  readonly step: StepName;
  readonly dueAt?: number;
}

/**
 * The `payment_steps` table: a step is scheduled in the transaction that makes it necessary (the
 * payment's first event, a refund request), so a crash can delay a step but never lose it. A
 * worker leases a step before running it and renews the lease while the step runs (a heartbeat
 * every third of the lease); a lease that runs out (the worker died) makes the step due again. Steps
 * are idempotent (PSP idempotency keys, command ids), so the rare double run
 * after a lease ran out mid-call is harmless.
 */
export class PaymentSteps {
  /** NOTIFY channel announcing steps due now, per schema so test schemas do not wake each other. */
  readonly channel: string;

  /** `instanceLockName(schema, '')`: a lease holder's lock is named by appending its instance id. */
  private readonly lockNamePrefix: string;

  constructor(
    private readonly dataSource: DataSource,
    /**
     * The instance whose lock this process holds (InstanceMemberships, ADR 0015), recorded with the
     * leases it takes while it holds the lock: once no process holds that lock (the process died),
     * any process frees them at its start (releaseLeasesOfDeadProcesses). None: leases run out by themselves.
     */
    private readonly owner?: StepLeaseOwner,
  ) {
    const schema = (dataSource.options as { schema?: string }).schema ?? 'public';
    this.channel = `payment_steps_${schema}`;
    this.lockNamePrefix = instanceLockName(schema, '');
  }

  /** The instance recorded with a lease taken now: none once this process lost its instance's lock. */
  private get leaseHolder(): string | null {
    return this.owner?.holdsLock ? this.owner.instanceId : null;
  }

  /**
   * Frees the leases of processes that are dead, so that their steps run again now rather than when
   * their leases run out (up to a lease after the crash): those this instance's previous process
   * held (this process took the instance's lock, which a live process never lets go), and those
   * of any other instance whose lock no process holds (a pod gone for good, replaced by one with
   * another name). A live process's leases are never freed: it holds its lock for its whole life,
   * and takes leases with its instance only while it holds it. Call before claiming anything.
   * Returns how many leases were freed, by the instance that held them.
   */
  async releaseLeasesOfDeadProcesses(): Promise<Map<string, number>> {
    const result = await this.dataSource.query<{ held_by: string }[] | [{ held_by: string }[], number]>(RELEASE_DEAD, [this.leaseHolder, this.lockNamePrefix]);
    const freed = new Map<string, number>();
    for (const row of this.rows(result)) freed.set(row.held_by, (freed.get(row.held_by) ?? 0) + 1);
    return freed;
  }

  /**
   * Calls `done` once this process has lost its instance's lock and disowned its leases (disownLeases),
   * with how many it disowned, or why it could not.
   */
  whenOwnerLost(done: (disowned: number | Error) => void): void {
    this.owner?.onLost?.(() => {
      this.disownLeases().then(done, (error: unknown) => done(error as Error));
    });
  }

  /**
   * This process lost its instance's lock while alive (its connection dropped): the leases it holds
   * no longer name the instance, so no process takes them for a dead one's; they run out as
   * leases without an owner do. Returns how many it disowned.
   */
  async disownLeases(): Promise<number> {
    if (this.owner === undefined) return 0;
    const result = await this.dataSource.query<{ step: string }[] | [{ step: string }[], number]>(
      'UPDATE payment_steps SET leased_by = NULL WHERE leased_by = $1 RETURNING step',
      [this.owner.instanceId],
    );
    return this.rows(result).length;
  }

  /**
   * Schedules a step in the caller's transaction; due now announces it on commit (NOTIFY is
   * transactional). The active trace context goes with the step, so the worker running it later
   * continues the trace of the request that made it necessary (the first one, if scheduled twice).
   */
  async schedule(sql: Sql, paymentId: string, step: StepName, dueAt?: Date): Promise<void> {
    const scheduling = this.scheduling(paymentId, step, dueAt);
    await queryNamed(sql, SCHEDULE_ANNOUNCED, [paymentId, step, scheduling.dueAt, scheduling.traceContext, scheduling.channel, scheduling.announcement]);
  }

  /**
   * What scheduling a new payment's first step writes and announces, for a statement that creates
   * the payment and schedules it together (PaymentEventStore's `firstStep`): the same row and
   * NOTIFY as `schedule`.
   */
  scheduling(paymentId: string, step: StepName, dueAt?: Date): StepScheduling {
    const announcement: StepAnnouncement = dueAt ? { paymentId, step, dueAt: dueAt.getTime() } : { paymentId, step };
    return {
      step,
      dueAt: dueAt?.toISOString() ?? null,
      traceContext: JSON.stringify(traceHeaders()),
      channel: this.channel,
      announcement: JSON.stringify(announcement),
    };
  }

  /**
   * The earliest moment (epoch ms) a step can become claimable (a due time, or the end of a lease
   * whose worker may have died), or undefined when no step is left: how long a worker may sleep.
   * The steps the caller runs itself (`own`) are left out: their leases end only if it dies, and
   * then its timers die with it; another worker's read counts them.
   */
  async nextDueAt(own: readonly { paymentId: string; step: string }[] = []): Promise<number | undefined> {
    const [row] = await onConnection(this.dataSource, (sql) =>
      queryNamed<{ next: number | null }>(sql, NEXT_DUE, [own.map((s) => s.paymentId), own.map((s) => s.step)]),
    );
    return row?.next ?? undefined;
  }

  /** Leases up to `limit` due steps, oldest first; others' leases and rows are skipped, not waited for. */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedStep[]> {
    const rows = await this.dataSource.query<StepRow[] | [StepRow[], number]>(
      `UPDATE payment_steps s SET lease_until = now() + $2 * interval '1 millisecond', attempts = s.attempts + 1, leased_by = $3
        WHERE (s.payment_id, s.step) IN (
          SELECT payment_id, step FROM payment_steps
           WHERE due_at <= now() AND (lease_until IS NULL OR lease_until < now())
           ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING s.payment_id, s.step, s.attempts, s.trace_context, ${KEPT_PAYMENT}`,
      [limit, leaseMs, this.leaseHolder],
    );
    return this.rows(rows).map(toClaimed);
  }

  /** Claims those of the named steps that are due and not leased, in one statement (a NOTIFY reaches every worker: one wins each step). */
  async claimMany(steps: readonly { paymentId: string; step: StepName }[], leaseMs: number): Promise<ClaimedStep[]> {
    if (steps.length === 0) return [];
    const rows = await onConnection(this.dataSource, (sql) =>
      queryNamed<StepRow>(sql, CLAIM_MANY, [steps.map((s) => s.paymentId), steps.map((s) => s.step), leaseMs, this.leaseHolder]),
    );
    return rows.map(toClaimed);
  }

  /**
   * Renews the leases of steps this worker is running (the heartbeat), for `leaseMs` from now.
   * Returns those it no longer holds (its lease ran out and another worker claimed the step).
   */
  async renew(held: readonly ClaimedStep[], leaseMs: number): Promise<ClaimedStep[]> {
    if (held.length === 0) return [];
    const rows = await onConnection(this.dataSource, (sql) =>
      queryNamed<{ payment_id: string; step: string; attempts: number }>(sql, RENEW, [
        held.map((s) => s.paymentId),
        held.map((s) => s.step),
        held.map((s) => s.attempts),
        leaseMs,
      ]),
    );
    const key = (paymentId: string, step: string, attempts: number): string => `${paymentId}\u0000${step}\u0000${attempts}`;
    const renewed = new Set(rows.map((row) => key(row.payment_id, row.step, row.attempts)));
    return held.filter((s) => !renewed.has(key(s.paymentId, s.step, s.attempts)));
  }

  /** The step is done (or has nothing left to do). In the caller's transaction when given one. */
  async complete(paymentId: string, step: StepName, sql?: Sql): Promise<void> {
    if (sql) await queryNamed(sql, COMPLETE, [paymentId, step]);
    else await onConnection(this.dataSource, (own) => queryNamed(own, COMPLETE, [paymentId, step]));
  }

  async retryLater(paymentId: string, step: StepName, delayMs: number, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE payment_steps SET due_at = now() + $3 * interval '1 millisecond', lease_until = NULL, last_error = $4 WHERE payment_id = $1 AND step = $2`,
      [paymentId, step, delayMs, reason.slice(0, 500)],
    );
  }

  /** Steps not finished, for reconciliation and tests. */
  async pending(): Promise<{ paymentId: string; step: string; attempts: number; lastError: string | null }[]> {
    const rows = await this.dataSource.query<{ payment_id: string; step: string; attempts: number; last_error: string | null }[]>(
      'SELECT payment_id, step, attempts, last_error FROM payment_steps ORDER BY due_at',
    );
    return rows.map((row) => ({ paymentId: row.payment_id, step: row.step, attempts: row.attempts, lastError: row.last_error }));
  }

  /** UPDATE ... RETURNING through TypeORM gives [rows, count]. */
  private rows<Row>(result: Row[] | [Row[], number]): Row[] {
    return Array.isArray(result[0]) ? result[0] : (result as Row[]);
  }
}
