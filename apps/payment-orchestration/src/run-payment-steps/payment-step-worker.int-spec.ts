/**
 * The payment step worker on real PostgreSQL: idle it runs no statement at all; it wakes for a
 * step announced now, for a step scheduled later (announced with its due time), for a retry, and
 * for a step whose worker died holding its lease (the lease's end, with no notification); a live
 * worker renews the leases of the steps it runs, and only while the claim is still its own; at
 * start it frees the leases of dead processes (its instance's previous one, an instance whose lock
 * no process holds), never a live one's, and a process that loses its lock disowns its leases.
 */
import { randomUUID } from 'node:crypto';
import { InstanceMemberships, PgNotifications } from '@pay/messaging';
import { createLogger } from '@pay/observability';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, isTrue, uniqueName, waitFor } from '@pay/testing';
import { DataSource } from 'typeorm';
import { paymentOrchestrationMigrations } from '../database/migrations';
import { inTransaction } from '../database/sql';
import type { StepResult } from './payment-step-worker';
import { PaymentStepWorker } from './payment-step-worker';
import type { StepName } from './payment-steps';
import { PaymentSteps } from './payment-steps';

const logger = createLogger('step-worker-test', 'silent');
const applicationName = uniqueName('step_worker_idle');

let db: TestSchema;
let workerSource: DataSource;
let steps: PaymentSteps;
let worker: PaymentStepWorker | undefined;
const ran: { paymentId: string; step: StepName; at: number }[] = [];
let outcome: (paymentId: string) => StepResult = () => ({ outcome: 'done' });
/** While set, every step's handler waits for it: a step that runs long. */
let longRun: Promise<void> | undefined;
/** Ends the long run (called after each test too, so that a failed test's workers stop). */
let endLongRun = (): void => undefined;
/** Workers besides `worker` (replicas), stopped after each test. */
const replicas: PaymentStepWorker[] = [];
/** Instance locks taken by a test (live processes), released after it. */
const instances: InstanceMemberships[] = [];

beforeAll(async () => {
  db = await createTestSchema('it_po_step_worker', paymentOrchestrationMigrations, 4);
  // The worker gets connections of its own, so PostgreSQL can tell what it runs from what the test runs.
  workerSource = new DataSource({ type: 'postgres', url: db.url, schema: db.schema, applicationName, extra: { options: `-c search_path=${db.schema}` } });
  await workerSource.initialize();
  steps = new PaymentSteps(workerSource);
});

afterEach(async () => {
  endLongRun();
  await worker?.stop();
  worker = undefined;
  await Promise.all(replicas.splice(0).map((replica) => replica.stop()));
  await Promise.all(instances.splice(0).map((instance) => instance.release()));
  longRun = undefined;
  ran.length = 0;
  outcome = () => ({ outcome: 'done' });
  await db.dataSource.query('DELETE FROM payment_steps');
});

afterAll(async () => {
  await workerSource?.destroy();
  await db?.drop();
});

async function startWorker(pollMs = 100, leaseMs = 10_000, stepsOf: PaymentSteps = steps, concurrency = 4): Promise<PaymentStepWorker> {
  const listenUrl = `${db.url}${db.url.includes('?') ? '&' : '?'}application_name=${applicationName}`;
  const started = new PaymentStepWorker({
    steps: stepsOf,
    handlerFor: () => async (claimed) => {
      ran.push({ paymentId: claimed.paymentId, step: claimed.step, at: Date.now() });
      await longRun;
      return outcome(claimed.paymentId);
    },
    logger,
    // Each worker as another process would have it: a LISTEN connection of its own.
    notifications: new PgNotifications({ connectionString: listenUrl, applicationName, logger }),
    concurrency,
    leaseMs,
    pollMs,
  });
  if (worker) replicas.push(started);
  else worker = started;
  await started.start();
  return started;
}

/** Schedules through the test's own connections (another replica, as far as the worker knows). */
async function schedule(paymentId: string, step: StepName, dueAt?: Date): Promise<void> {
  await inTransaction(db.dataSource, (sql) => new PaymentSteps(db.dataSource).schedule(sql, paymentId, step, dueAt));
}

/** When the worker's connections last began a statement, and how many are inside a transaction. */
async function workerActivity(): Promise<{ lastStatement: number; inTransaction: number }> {
  const rows = await db.dataSource.query<{ last: number; in_tx: number }[]>(
    `SELECT coalesce(extract(epoch FROM max(query_start)) * 1000, 0)::float8 AS last, count(xact_start)::int AS in_tx
       FROM pg_stat_activity WHERE application_name = $1`,
    [applicationName],
  );
  return { lastStatement: rows[0]?.last ?? 0, inTransaction: rows[0]?.in_tx ?? 0 };
}

/** Takes an instance's lock as a live process does (released after the test). */
async function claimInstance(instanceId: string, applicationName = uniqueName('step_lock')): Promise<InstanceMemberships> {
  const claimed = await InstanceMemberships.claim({ connectionString: db.url, schema: db.schema, instanceId, logger, applicationName });
  if (!claimed) throw new Error(`the lock of ${instanceId} was not taken`);
  instances.push(claimed);
  return claimed;
}

const leasedBy = async (paymentId: string): Promise<string | null | undefined> =>
  (await db.dataSource.query<{ leased_by: string | null }[]>('SELECT leased_by FROM payment_steps WHERE payment_id = $1', [paymentId]))[0]?.leased_by;

const pending = async (): Promise<number> => (await db.dataSource.query<{ n: number }[]>('SELECT count(*)::int AS n FROM payment_steps'))[0]?.n ?? 0;

describe('PaymentStepWorker', () => {
  it('claims the steps one commit announced with one statement, and runs each once', async () => {
    const running = await startWorker();
    const ids = Array.from({ length: 4 }, () => `pay-${randomUUID()}`);
    // One transaction schedules four steps: their announcements arrive together.
    await inTransaction(db.dataSource, async (sql) => {
      for (const id of ids) await new PaymentSteps(db.dataSource).schedule(sql, id, 'authorize');
    });
    await waitFor(() => ids.every((id) => ran.some((r) => r.paymentId === id)), isTrue, { what: 'the four steps to run', timeoutMs: 20_000, intervalMs: 20 });
    await waitFor(async () => (await pending()) === 0, isTrue, { what: 'the steps to complete', timeoutMs: 20_000, intervalMs: 20 });
    expect(ran.filter((r) => ids.includes(r.paymentId))).toHaveLength(4);
    expect(running.announcedClaims).toBe(1);
  });

  it('reads the next due time only after a pass that left slots free: a saturated worker does not, and still wakes for a step due later', async () => {
    const counted = new PaymentSteps(workerSource);
    const nextDueReads = jest.spyOn(counted, 'nextDueAt');
    const now = [`pay-${randomUUID()}`, `pay-${randomUUID()}`, `pay-${randomUUID()}`];
    const later = `pay-${randomUUID()}`;
    // Written without announcements: only a pass finds them (the worker's first runs at start).
    for (const id of now) await db.dataSource.query("INSERT INTO payment_steps (payment_id, step, due_at) VALUES ($1, 'authorize', now())", [id]);
    await db.dataSource.query("INSERT INTO payment_steps (payment_id, step, due_at) VALUES ($1, 'authorize', now() + interval '1500 milliseconds')", [later]);
    longRun = new Promise<void>((resolve) => (endLongRun = resolve));
    const running = await startWorker(100, 10_000, counted, 2);
    await waitFor(
      () => ran.length,
      (n) => n === 2,
      { what: 'two steps to run (both slots)', timeoutMs: 20_000, intervalMs: 20 },
    );
    // The pass that took both slots did not read when the next step is due.
    expect(running.passes).toBe(1);
    expect(nextDueReads).not.toHaveBeenCalled();
    endLongRun();
    // A slot freed: the next pass takes the third step, leaves a slot free, and reads the next due time.
    await waitFor(() => ran.some((r) => r.paymentId === now[2]), isTrue, { what: 'the third step to run', timeoutMs: 20_000, intervalMs: 20 });
    await waitFor(
      () => nextDueReads.mock.calls.length,
      (n) => n >= 1,
      { what: 'the next due time read', timeoutMs: 20_000, intervalMs: 20 },
    );
    await waitFor(() => ran.some((r) => r.paymentId === later), isTrue, { what: 'the step due later to run', timeoutMs: 20_000, intervalMs: 20 });
    nextDueReads.mockRestore();
  });

  it('runs no statement while idle, and wakes on the commit of a step due now', async () => {
    const running = await startWorker();
    const first = `pay-${randomUUID()}`;
    await schedule(first, 'authorize');
    await waitFor(() => ran.some((r) => r.paymentId === first), isTrue, { what: 'the first step to run', timeoutMs: 20_000, intervalMs: 20 });
    await waitFor(async () => (await pending()) === 0, isTrue, { what: 'the first step to complete', timeoutMs: 20_000, intervalMs: 20 });
    await waitFor(async () => (await workerActivity()).inTransaction === 0, isTrue, { what: 'the worker to finish', timeoutMs: 20_000, intervalMs: 20 });

    // Idle: the polling worker ran a claim every PAYMENT_STEP_POLL_MS (here 100 ms); this one runs nothing.
    const idleFrom = await workerActivity();
    const passes = running.passes;
    await new Promise((r) => setTimeout(r, 1_500));
    const idleTo = await workerActivity();
    expect(idleTo.lastStatement).toBe(idleFrom.lastStatement);
    expect(idleTo.inTransaction).toBe(0);
    expect(running.passes).toBe(passes);

    // The positive marker: the same measure sees the worker work as soon as a step commits.
    const second = `pay-${randomUUID()}`;
    await schedule(second, 'authorize');
    await waitFor(() => ran.some((r) => r.paymentId === second), isTrue, { what: 'the second step to run', timeoutMs: 20_000, intervalMs: 20 });
    expect((await workerActivity()).lastStatement).toBeGreaterThan(idleTo.lastStatement);
  });

  it('wakes for a step scheduled later at its due time, and not before', async () => {
    await startWorker();
    const paymentId = `pay-${randomUUID()}`;
    const dueAt = new Date(Date.now() + 1_200);
    await schedule(paymentId, 'confirm-funds', dueAt);
    await waitFor(() => ran.length > 0, isTrue, { what: 'the later step to run', timeoutMs: 10_000, intervalMs: 20 });
    expect(ran[0]?.paymentId).toBe(paymentId);
    expect(ran[0]?.at).toBeGreaterThanOrEqual(dueAt.getTime() - 50);
    expect(ran[0]?.at).toBeLessThan(dueAt.getTime() + 1_500);
  });

  it('runs a retry again when its backoff runs out', async () => {
    await startWorker();
    const paymentId = `pay-${randomUUID()}`;
    let attempts = 0;
    outcome = () => (++attempts === 1 ? { outcome: 'retry', afterMs: 300, reason: 'PSP unavailable' } : { outcome: 'done' });
    await schedule(paymentId, 'authorize');
    await waitFor(() => ran.length >= 2, isTrue, { what: 'the retry to run', timeoutMs: 10_000, intervalMs: 20 });
    expect(ran[1].at - ran[0].at).toBeGreaterThanOrEqual(250);
    await waitFor(async () => (await pending()) === 0, isTrue, { what: 'the retried step to complete', timeoutMs: 20_000, intervalMs: 20 });
  });

  it('picks up a step whose worker died holding its lease when the lease runs out, without any notification', async () => {
    const paymentId = `pay-${randomUUID()}`;
    // A worker claimed it (attempt 1) and died: the row is leased for another 1.5 s, and nothing will announce it.
    await db.dataSource.query(
      `INSERT INTO payment_steps (payment_id, step, due_at, attempts, lease_until) VALUES ($1, 'authorize', now() - interval '1 second', 1, now() + interval '1500 milliseconds')`,
      [paymentId],
    );
    const leaseEnds = Date.now() + 1_500;
    await startWorker();
    await waitFor(() => ran.length > 0, isTrue, { what: 'the abandoned step to run', timeoutMs: 10_000, intervalMs: 20 });
    expect(ran[0]?.at).toBeGreaterThanOrEqual(leaseEnds - 100);
    await waitFor(async () => (await pending()) === 0, isTrue, { what: 'the abandoned step to complete', timeoutMs: 20_000, intervalMs: 20 });
  });

  it("frees at start the leases of dead processes — its instance's previous process's, an instance no process holds the lock of — and never a live instance's", async () => {
    const mine = `pay-${randomUUID()}`;
    const alive = `pay-${randomUUID()}`;
    const gone = `pay-${randomUUID()}`;
    // The process of orch-0 died running `mine`; orch-1's process is alive (it holds its lock), running `alive`;
    // orch-2's pod is gone for good (nothing holds its lock), it died running `gone`. Each leased for another minute.
    await db.dataSource.query(
      `INSERT INTO payment_steps (payment_id, step, due_at, attempts, lease_until, leased_by)
       VALUES ($1, 'authorize', now() - interval '1 second', 1, now() + interval '60 seconds', 'orch-0'),
              ($2, 'authorize', now() - interval '1 second', 1, now() + interval '60 seconds', 'orch-1'),
              ($3, 'authorize', now() - interval '1 second', 1, now() + interval '60 seconds', 'orch-2')`,
      [mine, alive, gone],
    );
    const orch1 = await claimInstance('orch-1');
    // orch-0 restarted: it takes its instance's lock, and its steps record it as their leases' holder.
    const orch0 = await claimInstance('orch-0');
    longRun = new Promise<void>((resolve) => (endLongRun = resolve));
    await startWorker(100, 10_000, new PaymentSteps(workerSource, orch0));
    await waitFor(() => ran.length >= 2, isTrue, { what: "the dead processes' steps to run again", timeoutMs: 10_000, intervalMs: 20 });
    expect(ran.map((run) => run.paymentId).sort()).toEqual([mine, gone].sort());
    const leases: { payment_id: string; leased_by: string; attempts: number }[] = await db.dataSource.query(
      'SELECT payment_id, leased_by, attempts FROM payment_steps ORDER BY payment_id',
    );
    expect(leases).toEqual(
      [
        { payment_id: mine, leased_by: 'orch-0', attempts: 2 },
        { payment_id: alive, leased_by: 'orch-1', attempts: 1 },
        { payment_id: gone, leased_by: 'orch-0', attempts: 2 },
      ].sort((a, b) => a.payment_id.localeCompare(b.payment_id)),
    );
    endLongRun();
    expect(orch1.holdsLock).toBe(true);
  });

  it("a process that loses its instance's lock while alive disowns its leases: another process starting then does not take its running step", async () => {
    const paymentId = `pay-${randomUUID()}`;
    const lockConnection = uniqueName('step_lock');
    const orch3 = await claimInstance('orch-3', lockConnection);
    longRun = new Promise<void>((resolve) => (endLongRun = resolve));
    await startWorker(100, 10_000, new PaymentSteps(workerSource, orch3));
    await schedule(paymentId, 'authorize');
    await waitFor(() => ran.length > 0, isTrue, { what: 'the step to run', timeoutMs: 10_000, intervalMs: 20 });
    expect(await leasedBy(paymentId)).toBe('orch-3');
    // The lock's connection drops (a network blip, an administrator) while the process and its step live on.
    await db.dataSource.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [lockConnection]);
    await waitFor(
      () => leasedBy(paymentId),
      (holder) => holder === null,
      { what: 'the running step to stop naming orch-3', timeoutMs: 10_000, intervalMs: 20 },
    );
    expect(orch3.holdsLock).toBe(false);
    // A process starting now (a new pod) sees no lock for orch-3, yet leaves the step to its live worker.
    const replica = await startWorker(100, 10_000, new PaymentSteps(workerSource));
    await waitFor(
      () => replica.passes,
      (n) => n >= 1,
      { what: "the new process's first pass", timeoutMs: 10_000, intervalMs: 20 },
    );
    await waitFor(async () => (await workerActivity()).inTransaction === 0, isTrue, { what: 'the pass to end', timeoutMs: 10_000, intervalMs: 20 });
    expect(ran.map((run) => run.paymentId)).toEqual([paymentId]);
    endLongRun();
    await waitFor(async () => (await pending()) === 0, isTrue, { what: 'the step to complete', timeoutMs: 20_000, intervalMs: 20 });
    expect(ran).toHaveLength(1);
  });

  it('catches up after losing its LISTEN connection, running what was announced meanwhile', async () => {
    const running = await startWorker();
    await waitFor(async () => (await workerActivity()).inTransaction === 0, isTrue, { what: 'the start pass', timeoutMs: 20_000, intervalMs: 20 });
    // Drop the worker's LISTEN connection from the server's side, then schedule while it reconnects.
    await db.dataSource.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'`, [
      applicationName,
    ]);
    const paymentId = `pay-${randomUUID()}`;
    await schedule(paymentId, 'authorize');
    await waitFor(() => ran.some((r) => r.paymentId === paymentId), isTrue, {
      what: 'the step announced during the reconnect to run',
      timeoutMs: 20_000,
      intervalMs: 20,
    });
    expect(running.passes).toBeGreaterThan(1);
  });

  it('renews the lease of a step while it runs, so another worker never runs it meanwhile, however long it takes', async () => {
    // A lease of 600 ms, renewed every 200 ms; the step runs 2.5 s, four leases long.
    let finish = (): void => undefined;
    longRun = new Promise((done) => (finish = done));
    await startWorker(100, 600);
    await startWorker(100, 600);
    const paymentId = `pay-${randomUUID()}`;
    await schedule(paymentId, 'authorize');
    await waitFor(() => ran.length > 0, isTrue, { what: 'the long step to start', timeoutMs: 10_000, intervalMs: 20 });
    const started = Date.now();
    // The other worker wakes at the lease's end every 600 ms (nextDueAt) and finds it renewed each time.
    await waitFor(() => Date.now() - started >= 2_500, isTrue, { what: 'four leases to pass', timeoutMs: 10_000, intervalMs: 100 });
    expect(ran).toHaveLength(1);
    finish();
    await waitFor(async () => (await pending()) === 0, isTrue, { what: 'the long step to complete', timeoutMs: 20_000, intervalMs: 20 });
    expect(ran).toHaveLength(1);
  });

  it("does not wake for the leases of the steps it runs itself: only another worker's lease, or a due time, is a deadline", async () => {
    // Leases of 600 ms, renewed every 200 ms; the steps run 2 s, three leases long, on one worker.
    let finish = (): void => undefined;
    longRun = new Promise((done) => (finish = done));
    try {
      const alone = await startWorker(100, 600);
      const [first, second] = [`pay-${randomUUID()}`, `pay-${randomUUID()}`];
      await schedule(first, 'authorize');
      await waitFor(() => ran.length === 1, isTrue, { what: 'the first step to start', timeoutMs: 10_000, intervalMs: 20 });
      // Due in 300 ms: a pass claims it then, and reads the next deadline while both steps run.
      await schedule(second, 'authorize', new Date(Date.now() + 300));
      await waitFor(() => ran.length === 2, isTrue, { what: 'the second step to start', timeoutMs: 10_000, intervalMs: 20 });
      const passesBefore = alone.passes;
      const started = Date.now();
      await waitFor(() => Date.now() - started >= 2_000, isTrue, { what: 'three leases to pass', timeoutMs: 10_000, intervalMs: 100 });
      // Counting its own leases, it would pass again at each of their ends (two or more times).
      expect(alone.passes - passesBefore).toBe(0);
    } finally {
      finish();
    }
    await waitFor(async () => (await pending()) === 0, isTrue, { what: 'the steps to complete', timeoutMs: 20_000, intervalMs: 20 });
    expect(ran).toHaveLength(2);
  });

  it('renews only a claim still its own: once its lease ran out and another worker claimed the step, the old holder renews nothing', async () => {
    const paymentId = `pay-${randomUUID()}`;
    await schedule(paymentId, 'authorize');
    const [first] = await steps.claimDue(1, 200);
    expect(first?.paymentId).toBe(paymentId);
    // The first holder stalls past its lease: the step is claimable again, and another worker claims it.
    const [second] = await waitFor(
      () => steps.claimDue(1, 10_000),
      (claimed) => claimed.length === 1,
      { what: 'the lapsed lease to be claimable', timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(second?.attempts).toBe((first?.attempts ?? 0) + 1);
    expect(await steps.renew([first, second], 10_000)).toEqual([first]);
  });
});
