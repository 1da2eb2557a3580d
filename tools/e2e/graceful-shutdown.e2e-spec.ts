/**
 * SIGTERM on a real process (docs/architecture.md, point 5): the built history-projection service
 * (`node dist/apps/history-projection/src/main.js`) is stopped while it is working through a
 * backlog of events on its three topics. It must stop taking messages, finish the ones in hand,
 * commit exactly the offsets of what it applied, leave its consumer group, close its PostgreSQL
 * and Kafka connections and exit 0, well within the pod's termination grace period. Started
 * again, it resumes where the commits say, so every event ends up applied exactly once.
 *
 * To be sure messages are in hand when the signal arrives, whatever the speed of the machine,
 * the test holds a SHARE lock on the projection's `raw_events` table: the service's event
 * transactions wait on it (their inbox row written, uncommitted). The lock is released once
 * the service has logged that it is stopping; those transactions must then commit, not be lost
 * to a pool closed under them.
 *
 * The service runs under a PostgreSQL role of its own (as in production, where each service has
 * its own credentials), so `pg_stat_activity` tells its connections apart from everyone else's.
 * A preloaded probe lists, at the process's `exit` event, the TCP sockets still open.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EventEnvelope } from '@pay/contracts';
import { deadLetterTopicOf } from '@pay/contracts';
import type { BuiltService, StartedService } from '@pay/testing';
import { builtServiceEnv, builtServiceMain, dropSchema, startBuiltService, testDatabaseUrl, testKafka, uniqueName, waitFor } from '@pay/testing';
import type { Admin } from 'kafkajs';
import { Client } from 'pg';
import { entryFromRecord, readModelTables } from '@pay/history-projection/tools';
import type { HistoryTopics } from '@pay/history-projection/testing';
import { createHistoryTopics, dailyTotalsOf, deleteHistoryTopics, generateWorkload, projectInMemory, publish } from '@pay/history-projection/testing';

const ROOT = resolve(__dirname, '../..');
/**
 * The service's InboxConsumer defaults: at most this many partitions are in hand at once, each with
 * one transaction of at most MAX_EVENTS_PER_TRANSACTION events.
 */
const PARTITIONS_CONSUMED_CONCURRENTLY = 3;
const MAX_EVENTS_PER_TRANSACTION = 500;
/** A stream of ~2,200 events: payments, ledger transactions and wallet events. */
const workload = generateWorkload({ seed: 808, persons: 30, merchants: 5, nonProfits: 2, payments: 500 });
const TOTAL = workload.events.length;
/** SIGTERM arrives once this many events are applied: well into the stream, far from its end. */
const MID_STREAM = 150;
// What is in hand at the signal (at most one full transaction on each partition in hand) must not
// be able to finish the stream, or the restart below would have nothing left to resume: with ~1,100
// events a CI run saw every remaining event in hand and applied before the exit.
if (TOTAL <= MID_STREAM + PARTITIONS_CONSUMED_CONCURRENTLY * MAX_EVENTS_PER_TRANSACTION + 100) {
  throw new Error(`the workload (${TOTAL} events) is too short: the messages in hand at the signal could be all that is left`);
}

/** The pod's grace period, from the manifest Kubernetes applies. */
function terminationGracePeriodSeconds(): number {
  const manifest = readFileSync(resolve(ROOT, 'deploy/k8s/base/history-projection/deployment.yaml'), 'utf8');
  const match = /^\s*terminationGracePeriodSeconds:\s*(\d+)\s*$/m.exec(manifest);
  if (!match) throw new Error('deploy/k8s/base/history-projection/deployment.yaml sets no terminationGracePeriodSeconds');
  return Number(match[1]);
}

/** Written at the process's `exit` event: the exit code and the TCP sockets still open then. */
const EXIT_PROBE = `
process.on('exit', (code) => {
  const sockets = process._getActiveHandles()
    .filter((h) => h && typeof h.remotePort === 'number' && !h.destroyed)
    .map((s) => ({ remoteAddress: s.remoteAddress, remotePort: s.remotePort }));
  process.stderr.write('\\nEXIT-PROBE ' + JSON.stringify({ code, sockets, resources: process.getActiveResourcesInfo() }) + '\\n');
});
`;

interface ExitProbe {
  code: number;
  sockets: Array<{ remoteAddress: string; remotePort: number }>;
  resources: string[];
}

/** What the probe wrote, once the process has ended. */
function exitProbe(service: BuiltService): ExitProbe | undefined {
  const line = service
    .stderr()
    .split('\n')
    .find((l) => l.startsWith('EXIT-PROBE '));
  return line ? (JSON.parse(line.slice('EXIT-PROBE '.length)) as ExitProbe) : undefined;
}

describe('a consuming service stopped with SIGTERM mid-stream', () => {
  const grace = terminationGracePeriodSeconds();
  /** Well under the grace period: the preStop sleep (5 s) comes out of it too. */
  const exitBoundMs = Math.min(15_000, (grace * 1_000) / 3);
  const schema = uniqueName('it_shutdown');
  const role = uniqueName('it_shutdown_history');
  const group = uniqueName('history-projection.it-shutdown');
  let topics: HistoryTopics;
  let admin: Admin;
  let db: Client;
  let serviceDatabaseUrl: string;
  let dir: string;
  let probePath: string;
  const running: BuiltService[] = [];
  /** How many events the first run applied (and committed). */
  let appliedByFirstRun = 0;

  const query = async <T = Record<string, string>>(sql: string, parameters: unknown[] = []): Promise<T[]> => (await db.query(sql, parameters)).rows as T[];
  const count = async (sql: string, parameters: unknown[] = []): Promise<number> => Number((await query<{ n: string }>(sql, parameters))[0].n);
  const appliedCount = (): Promise<number> => count(`SELECT count(*)::text AS n FROM "${schema}".inbox WHERE consumer = $1`, [group]);
  const serviceConnections = (): Promise<number> =>
    count(`SELECT count(*)::text AS n FROM pg_stat_activity WHERE usename = $1 AND datname = current_database()`, [role]);
  const waitingOnLock = (): Promise<number> =>
    count(`SELECT count(*)::text AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'`, [role]);
  const consumedTopics = (): string[] => [topics.payments, topics.ledger, topics.wallet];

  /** Committed offset of the group per `topic:partition` (a partition never committed counts 0). */
  async function committedOffsets(): Promise<Map<string, number>> {
    const answer = await admin.fetchOffsets({ groupId: group, topics: consumedTopics() });
    return new Map(answer.flatMap(({ topic, partitions }) => partitions.map((p) => [`${topic}:${p.partition}`, Math.max(0, Number(p.offset))] as const)));
  }

  /** The end of each partition of the consumed topics. */
  async function endOffsets(): Promise<Map<string, number>> {
    const ends = new Map<string, number>();
    for (const topic of consumedTopics()) for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${p.partition}`, Number(p.high));
    return ends;
  }

  /** What the inbox holds per `topic:partition`: how many offsets, the lowest and the highest. */
  async function appliedOffsets(): Promise<Map<string, { n: number; min: number; max: number }>> {
    const rows = await query<{ topic: string; p: number; n: string; min: string; max: string }>(
      `SELECT topic, kafka_partition AS p, count(*)::text AS n, min(kafka_offset)::text AS min, max(kafka_offset)::text AS max
         FROM "${schema}".inbox WHERE consumer = $1 GROUP BY topic, kafka_partition`,
      [group],
    );
    return new Map(rows.map((r) => [`${r.topic}:${r.p}`, { n: Number(r.n), min: Number(r.min), max: Number(r.max) }]));
  }

  /** Nothing applied is left uncommitted, nothing committed is unapplied: partition by partition. */
  async function expectCommittedEqualsApplied(): Promise<number> {
    const committed = await committedOffsets();
    const applied = await appliedOffsets();
    expect(committed.size).toBe(9);
    let total = 0;
    for (const [partition, offset] of committed) {
      const inbox = applied.get(partition) ?? { n: 0, min: 0, max: -1 };
      // The inbox holds exactly offsets 0 .. committed-1 of this partition.
      expect({ partition, committed: offset, applied: inbox.n, lowest: inbox.n ? inbox.min : 0, highest: inbox.max }).toEqual({
        partition,
        committed: offset,
        applied: offset,
        lowest: 0,
        highest: offset - 1,
      });
      total += offset;
    }
    for (const partition of applied.keys()) expect(committed.has(partition)).toBe(true);
    return total;
  }

  async function start(): Promise<StartedService> {
    const service = await startBuiltService('history-projection', {
      nodeArgs: ['--require', probePath],
      env: builtServiceEnv({
        DATABASE_URL: serviceDatabaseUrl,
        DB_SCHEMA: schema,
        HISTORY_CONSUMER_GROUP: group,
        HISTORY_PAYMENTS_TOPIC: topics.payments,
        HISTORY_LEDGER_TOPIC: topics.ledger,
        HISTORY_WALLET_TOPIC: topics.wallet,
      }),
      listenTimeoutMs: 90_000,
    });
    running.push(service);
    return service;
  }

  beforeAll(async () => {
    builtServiceMain('history-projection');
    db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    // The service's own login role: it creates its schema and owns what its migrations create.
    await db.query(`CREATE ROLE "${role}" LOGIN`);
    await db.query(`GRANT CREATE ON DATABASE "${decodeURIComponent(new URL(testDatabaseUrl()).pathname.slice(1))}" TO "${role}"`);
    const url = new URL(testDatabaseUrl());
    url.username = role;
    url.password = '';
    serviceDatabaseUrl = url.toString();
    admin = testKafka().admin();
    await admin.connect();
    topics = await createHistoryTopics(3);
    dir = await mkdtemp(join(tmpdir(), 'graceful-shutdown-'));
    probePath = join(dir, 'exit-probe.cjs');
    await writeFile(probePath, EXIT_PROBE);
    // The whole stream is there before the service starts: it has a backlog from its first fetch.
    await publish(topics, workload.events);
  }, 120_000);

  afterAll(async () => {
    for (const service of running) await service.stop('SIGKILL');
    await admin?.disconnect().catch(() => undefined);
    if (topics) await deleteHistoryTopics(topics);
    await dropSchema(testDatabaseUrl(), schema).catch(() => undefined);
    if (db) {
      await db.query(`DROP OWNED BY "${role}"`).catch(() => undefined);
      await db.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
      await db.end();
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finishes the messages in hand, commits exactly what it applied, closes its connections and exits 0 within the grace period', async () => {
    expect(exitBoundMs).toBeLessThan(grace * 1_000);
    const service = await start();
    await waitFor(appliedCount, (n) => n >= MID_STREAM, { what: `${MID_STREAM} events applied`, timeoutMs: 120_000, intervalMs: 50 });
    // The identification of the service's connections is not vacuous: it has some now.
    expect(await serviceConnections()).toBeGreaterThan(0);

    // Hold the projection's next transactions in hand (each has written its inbox row and waits).
    const lock = new Client({ connectionString: testDatabaseUrl() });
    await lock.connect();
    let locked = true;
    try {
      await lock.query('BEGIN');
      await lock.query(`LOCK TABLE "${schema}".raw_events IN SHARE MODE`);
      // Granted once every transaction past raw_events committed; nothing else can commit now.
      const before = await appliedCount();
      const beforeByPartition = await appliedOffsets();
      expect(before).toBeLessThan(TOTAL);
      await waitFor(waitingOnLock, (n) => n >= 1, { what: 'an event transaction waiting on the lock', timeoutMs: 60_000, intervalMs: 50 });

      const signalledAt = Date.now();
      service.child.kill('SIGTERM');
      await waitFor(
        () => service.logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('consumer stopping')),
        (seen) => seen,
        { what: `the service logging that it stops consuming; output: ${service.output().slice(-20_000)}`, timeoutMs: exitBoundMs, intervalMs: 50 },
      );
      // The consumer no longer takes messages: what waits on the lock now is what is in hand.
      const inHand = await waitingOnLock();
      expect(inHand).toBeGreaterThanOrEqual(1);
      // It waits for them: still running while they cannot finish.
      expect(service.child.exitCode).toBeNull();
      await lock.query('COMMIT');
      locked = false;

      const exit = await service.waitForExit(grace * 1_000);
      expect(exit).toBeDefined();
      const elapsedMs = exit!.at - signalledAt;
      expect({ code: exit!.code, signal: exit!.signal }).toEqual({ code: 0, signal: null });
      expect(elapsedMs).toBeLessThan(exitBoundMs);

      // No PostgreSQL or Kafka socket was left open at exit: the service closed its pools itself.
      const probe = exitProbe(service);
      expect(probe).toBeDefined();
      expect(probe!.sockets).toEqual([]);
      expect(probe!.code).toBe(0);
      // And PostgreSQL agrees: nothing of this service's role is connected.
      await waitFor(serviceConnections, (n) => n === 0, { what: 'the service role has no connections', timeoutMs: 10_000, intervalMs: 50 });

      // It left its group at once (no member waits for the session timeout to be dropped).
      const { groups } = await admin.describeGroups([group]);
      expect(groups[0].state).toBe('Empty');

      // The messages in hand were finished, and no new one was started after the signal.
      const after = await appliedCount();
      expect(after).toBeGreaterThanOrEqual(before + inHand);
      // Only the transactions in hand committed after the signal: at most one chunk on each of at most three partitions.
      const grown = [...(await appliedOffsets())].map(([partition, inbox]) => inbox.n - (beforeByPartition.get(partition)?.n ?? 0)).filter((n) => n > 0);
      expect(grown.length).toBeLessThanOrEqual(PARTITIONS_CONSUMED_CONCURRENTLY);
      for (const n of grown) expect(n).toBeLessThanOrEqual(MAX_EVENTS_PER_TRANSACTION);
      expect(after).toBeLessThan(TOTAL);
      // Committed offsets are exactly what the inbox holds, partition by partition.
      expect(await expectCommittedEqualsApplied()).toBe(after);
      expect(await count(`SELECT count(*)::text AS n FROM "${schema}".raw_events`)).toBe(after);
      appliedByFirstRun = after;
    } finally {
      if (locked) await lock.query('ROLLBACK').catch(() => undefined);
      await lock.end();
    }
  }, 300_000);

  it('started again, resumes from the committed offsets and applies every event exactly once', async () => {
    expect(appliedByFirstRun).toBeGreaterThan(0);
    const service = await start();
    const ends = await endOffsets();
    expect([...ends.values()].reduce((a, b) => a + b, 0)).toBe(TOTAL);
    await waitFor(
      async () => ({ applied: await appliedCount(), committed: await committedOffsets() }),
      ({ applied, committed }) => applied === TOTAL && [...ends].every(([partition, end]) => committed.get(partition) === end),
      { what: 'every event applied and committed', timeoutMs: 180_000, intervalMs: 50 },
    );
    expect(await expectCommittedEqualsApplied()).toBe(TOTAL);
    const ids = await query<{ event_id: string }>(`SELECT event_id FROM "${schema}".raw_events`);
    expect(new Set(ids.map((r) => r.event_id))).toEqual(new Set(workload.events.map((e: EventEnvelope) => e.id)));
    expect(ids).toHaveLength(TOTAL);

    // The second run was handed only what the first had not applied: no redelivered duplicate.
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const processed = (outcome: string): number =>
      metrics
        .split('\n')
        .filter((line) => line.startsWith('messaging_process_messages') && line.includes(`outcome="${outcome}"`) && line.includes(`consumer="${group}"`))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    expect({ applied: processed('applied'), duplicate: processed('duplicate'), deadLettered: processed('dead-lettered') }).toEqual({
      applied: TOTAL - appliedByFirstRun,
      duplicate: 0,
      deadLettered: 0,
    });
    for (const topic of consumedTopics()) expect(Number((await admin.fetchTopicOffsets(deadLetterTopicOf(topic)))[0].high)).toBe(0);

    // The read model is what the events make, each counted once.
    const expected = projectInMemory(workload.events);
    const t = readModelTables(1);
    const entries = await query<Parameters<typeof entryFromRecord>[0]>(`SELECT * FROM "${schema}".${t.entries}`);
    expect(new Map(entries.map((r) => [r.entry_id, entryFromRecord(r)]))).toEqual(expected.entries);
    const totals = await query<Record<string, string>>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, app, country, currency, kind, method_type, status, entries::text, amount::text, net_amount::text FROM "${schema}".${t.dailyTotals}`,
    );
    expect(
      new Map(
        totals.map((r) => [[r.day, r.app, r.country, r.currency, r.kind, r.method_type, r.status].join('|'), `${r.entries}|${r.amount}|${r.net_amount}`]),
      ),
    ).toEqual(dailyTotalsOf(expected.entries.values()));

    service.child.kill('SIGTERM');
    const exit = await service.exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    await waitFor(serviceConnections, (n) => n === 0, { what: 'the service role has no connections', timeoutMs: 10_000, intervalMs: 50 });
  }, 300_000);
});
