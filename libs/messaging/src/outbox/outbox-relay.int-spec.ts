import 'reflect-metadata';
import { Writable } from 'node:stream';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { EventEnvelope } from '@pay/contracts';
import { createEvent, defineEvent } from '@pay/contracts';
import { createLogger, startTelemetry, tracer } from '@pay/observability';
import { sqlOf, sqlOfTransaction } from '@pay/sql';
import { context, trace } from '@opentelemetry/api';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, createTestTopics, deleteTestTopics, isTrue, parsePrometheusText, testKafka, uniqueName, waitFor } from '@pay/testing';
import { IsInt } from 'class-validator';
import type { Consumer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { Client as PgClient } from 'pg';
import { DataSource } from 'typeorm';
import { EventPublisher } from '../kafka/event-publisher';
import { appendToOutbox } from './outbox-writer';
import type { OutboxRelayOptions } from './outbox-relay';
import { OutboxRelay } from './outbox-relay';
import { OUTBOX_NOTIFY_SQL, OUTBOX_TABLE_SQL } from './outbox.schema';

class Tick {
  @IsInt()
  n!: number;
}

const topic = uniqueName('it.relay').replace(/_/g, '-');
const PARTITIONS = 3;
const TickV1 = defineEvent({ type: 'test.relay.tick', version: 1, topic, dataClass: Tick, description: 'test' });

class CreateOutbox1700000000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(OUTBOX_TABLE_SQL);
    await runner.query(OUTBOX_NOTIFY_SQL);
  }
  async down(): Promise<void> {}
}

const logger = createLogger('relay-test', 'silent');
// Started before any test, as main.ts does: spans are real, and their context propagates.
const telemetry = startTelemetry({ service: 'relay-test' });
/** A publisher that tells when the relay began a send (a send to a missing topic stays in kafkajs' retries until it exists). */
class SendingPublisher extends EventPublisher {
  sending = false;
  override async sendRaw(topicMessages: Parameters<EventPublisher['sendRaw']>[0]): Promise<void> {
    this.sending = true;
    await super.sendRaw(topicMessages);
  }
}
const tick = (n: number): EventEnvelope<Tick> => createEvent({ definition: TickV1, source: 'wallet', subject: `s-${n % 5}`, sequence: n, data: { n } });

/** A logger's destination that keeps what is written, and the lines written so far, parsed. */
function logLines(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const written: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('OutboxRelay against real PostgreSQL and Kafka', () => {
  let db: TestSchema;
  let publisher: EventPublisher;
  let reader: Consumer;
  const received: string[] = [];
  const traceparents = new Map<string, string>();
  const kafka = testKafka();

  beforeAll(async () => {
    db = await createTestSchema('it_relay', [CreateOutbox1700000000000], 30);
    await createTestTopics([topic], PARTITIONS);
    publisher = new EventPublisher(kafka);
    reader = kafka.consumer({ groupId: uniqueName('it-relay-reader'), maxWaitTimeInMs: 100 });
    await reader.connect();
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        received.push(message.headers!['event-id']!.toString());
        const traceparent = message.headers?.traceparent?.toString();
        if (traceparent) traceparents.set(message.headers!['event-id']!.toString(), traceparent);
      },
    });
  });

  afterAll(async () => {
    await reader.disconnect();
    await publisher.disconnect();
    await deleteTestTopics([topic]);
    await db.drop();
    // Shut down last: the failure test reads the relay's metrics.
    await telemetry.shutdown();
  });

  /**
   * Rows become publishable once every older transaction of the whole PostgreSQL cluster has
   * ended (pg_snapshot_xmin); other test files' transactions run in parallel, so poll.
   */
  async function publishAll(relay: OutboxRelay, expected: number): Promise<number> {
    let published = 0;
    return waitFor(
      async () => (published += await relay.publishBatch()),
      (total) => total >= expected,
      {
        what: `${expected} rows published`,
        timeoutMs: 20_000,
        intervalMs: 20,
      },
    );
  }

  /**
   * A relay whose batches the test drives by hand (publishBatch): the outbox emptied, so its new name
   * starts from the beginning, and its checkpoint row created by a start and stop.
   */
  async function handDrivenRelay(name: string, options: Partial<OutboxRelayOptions> = {}): Promise<OutboxRelay> {
    received.length = 0;
    await db.dataSource.query('TRUNCATE outbox');
    const relay = new OutboxRelay({ name, dataSource: db.dataSource, publisher, logger, ...options });
    await relay.start();
    await relay.stop();
    return relay;
  }

  /**
   * Waits for `count` events, then for a sentinel written to every partition after them: the reader
   * reads each partition in order, so a duplicate the relay published would have arrived before its
   * partition's sentinel. The sentinels are taken out of `received`.
   */
  async function waitForReceived(count: number): Promise<void> {
    await waitFor(
      () => received.length,
      (n) => n >= count,
      { what: `${count} events received`, timeoutMs: 30_000, intervalMs: 50 },
    );
    const sentinels = Array.from({ length: PARTITIONS }, (_, partition) => `sentinel-${partition}-${Date.now()}`);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      await producer.send({ topic, messages: sentinels.map((id, partition) => ({ partition, value: '{}', headers: { 'event-id': id } })) });
    } finally {
      await producer.disconnect();
    }
    await waitFor(() => sentinels.every((id) => received.includes(id)), isTrue, { what: 'the sentinel of every partition', timeoutMs: 30_000, intervalMs: 50 });
    for (const id of sentinels) received.splice(received.indexOf(id), 1);
  }

  it('waits for a transaction that took a lower position but commits later, and publishes every row once', async () => {
    const relay = new OutboxRelay({ name: 'it-order', dataSource: db.dataSource, publisher, logger });
    await relay.start();
    await relay.stop(); // checkpoint row created; batches are driven by hand below

    const early = tick(1);
    const late = tick(2);
    const slow = db.dataSource.createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    await appendToOutbox(sqlOf(slow), [{ topic, envelope: early }]); // lower position, still uncommitted
    await db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic, envelope: late }])); // higher position, committed

    const positions: { position: string }[] = await db.dataSource.query('SELECT position FROM outbox ORDER BY position');
    expect(positions).toHaveLength(1); // only the committed row is visible yet
    expect(await relay.publishBatch()).toBe(0); // it is held back: the lower one may still commit

    await slow.commitTransaction();
    await slow.release();
    expect(await publishAll(relay, 2)).toBe(2);
    expect(await relay.publishBatch()).toBe(0);
    await waitForReceived(2);
    expect(received.sort()).toEqual([early.id, late.id].sort());
  });

  it('publishes everything written by concurrent out-of-order transactions, across a relay crash and restart', async () => {
    received.length = 0;
    await db.dataSource.query('TRUNCATE outbox'); // a new relay name starts from the beginning
    const events = Array.from({ length: 200 }, (_, i) => tick(1_000 + i));
    const relay = new OutboxRelay({ name: 'it-concurrent', dataSource: db.dataSource, publisher, logger, batchSize: 25, idleDelayMs: 5 });
    await relay.start();
    // 200 transactions in 20 concurrent streams, each holding its transaction open a random while.
    const writers = Array.from({ length: 20 }, async (_, w) => {
      for (let i = w; i < events.length; i += 20) {
        await db.dataSource.transaction(async (tx) => {
          await appendToOutbox(sqlOfTransaction(tx), [{ topic, envelope: events[i] }]);
          await new Promise((r) => setTimeout(r, Math.random() * 15));
        });
        if (i === 100) {
          await relay.stop(); // a crash: the relay goes away mid-stream...
        }
      }
    });
    await Promise.all(writers);
    const restarted = new OutboxRelay({ name: 'it-concurrent', dataSource: db.dataSource, publisher, logger, batchSize: 25, idleDelayMs: 5 });
    await restarted.start(); // ...and a new one resumes from the checkpoint
    await waitFor(
      () => restarted.backlog(),
      (left) => left === 0,
      { what: "the restarted relay's backlog published", timeoutMs: 30_000, intervalMs: 50 },
    );
    await restarted.stop();
    await waitForReceived(events.length);
    const extra = received.filter((id) => !events.some((e) => e.id === id));
    expect(extra).toEqual([]);
    expect(received).toHaveLength(events.length);
    expect(new Set(received)).toEqual(new Set(events.map((e) => e.id)));
  });

  it('carries the writer’s trace context to Kafka, so consumers continue the trace that caused the event', async () => {
    const relay = await handDrivenRelay('it-trace');
    const event = tick(7_000);
    const span = tracer('test').startSpan('state change');
    await context.with(trace.setSpan(context.active(), span), () =>
      db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic, envelope: event }])),
    );
    span.end();
    expect(await publishAll(relay, 1)).toBe(1);
    await waitForReceived(1);
    expect(traceparents.get(event.id)).toMatch(new RegExp(`^00-${span.spanContext().traceId}-[0-9a-f]{16}-0[01]$`));
  });

  it('does not move its checkpoint past a row its read did not return: it logs the row, and the next pass publishes it', async () => {
    const first = tick(8_000);
    const second = tick(8_001);
    const behind = tick(8_002);
    let firstTx = '';
    /**
     * While the batch (first, second) is on its way to Kafka, a row appears between them in
     * (tx_id, position) order, under first's transaction id: a row the batch's READ could not see
     * although its transaction was below the horizon — what a relay once passed without publishing.
     */
    class IntrudingPublisher extends EventPublisher {
      intruded = false;
      override async sendRaw(topicMessages: Parameters<EventPublisher['sendRaw']>[0]): Promise<void> {
        if (!this.intruded) {
          this.intruded = true;
          await db.dataSource.query(`INSERT INTO outbox (tx_id, topic, message_key, event_id, payload) VALUES ($1::xid8, $2, $3, $4, $5::jsonb)`, [
            firstTx,
            topic,
            behind.subject,
            behind.id,
            JSON.stringify(behind),
          ]);
        }
        await super.sendRaw(topicMessages);
      }
    }
    const intruding = new IntrudingPublisher(kafka);
    const { stream, lines } = logLines();
    const relay = await handDrivenRelay('it-unread', { publisher: intruding, logger: createLogger('relay-test', 'info', stream) });
    await db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic, envelope: first }]));
    await db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic, envelope: second }]));
    [{ tx_id: firstTx }] = await db.dataSource.query<{ tx_id: string }[]>('SELECT tx_id::text AS tx_id FROM outbox WHERE event_id = $1', [first.id]);
    const [{ tx_id: secondTx }] = await db.dataSource.query<{ tx_id: string }[]>('SELECT tx_id::text AS tx_id FROM outbox WHERE event_id = $1', [second.id]);
    // Both rows in one batch: a transaction of another test file begun between the two commits holds
    // the horizon between them, and a batch of `first` alone leaves the intruding row after it, not behind.
    await waitFor(
      async () =>
        (await db.dataSource.query<{ passed: boolean }[]>('SELECT $1::xid8 < pg_snapshot_xmin(pg_current_snapshot()) AS passed', [secondTx]))[0].passed,
      (passed) => passed,
      { what: "the second row's transaction below the horizon", timeoutMs: 20_000, intervalMs: 20 },
    );
    try {
      // Passes until the batch is taken.
      let refused: unknown;
      const pass = (): Promise<number> =>
        relay.publishBatch().catch((error: unknown) => {
          refused = error;
          return 0;
        });
      await waitFor(pass, (published) => published > 0 || refused !== undefined, { what: 'a pass that takes the batch', timeoutMs: 20_000, intervalMs: 20 });
      expect(String(refused)).toMatch(/1 row\(s\) behind the batch were not read; the checkpoint was not moved/);
      expect(await relay.backlog()).toBe(3);
      const logged = lines() as { relay?: string; unread?: { position: string; tx_id: string; status: string }[] }[];
      const report = logged.find((line) => line.relay === 'it-unread' && line.unread);
      expect(report?.unread).toEqual([expect.objectContaining({ tx_id: firstTx, status: 'committed' })]);

      expect(await publishAll(relay, 3)).toBe(3);
      expect(await relay.backlog()).toBe(0);
      // The refused batch reached Kafka once before the pass failed, and again with the row behind it.
      await waitForReceived(5);
      expect([...received].sort()).toEqual([first.id, first.id, second.id, second.id, behind.id].sort());
    } finally {
      await intruding.disconnect();
    }
  });

  it("publishes a batch in two round trips: BEGIN with the read, the checkpoint's move with COMMIT", async () => {
    const relay = await handDrivenRelay('it-round-trips');
    const row = tick(8_100);
    await db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic, envelope: row }]));
    // What each pass sends (one entry per round trip; the relay's statements are prepared once per
    // connection, on their own): passes until one publishes (the row waits for the horizon, which
    // other test files' transactions hold).
    let sent: string[] = [];
    const query = PgClient.prototype.query;
    PgClient.prototype.query = function watched(this: PgClient, ...args: unknown[]) {
      const config = args[0];
      const text = typeof config === 'string' ? config : String((config as { text?: string }).text);
      if (!text.startsWith('PREPARE ')) sent.push(text);
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    try {
      await waitFor(
        () => {
          sent = [];
          return relay.publishBatch();
        },
        (published) => published > 0,
        { what: 'a pass that publishes the row', timeoutMs: 20_000, intervalMs: 20 },
      );
    } finally {
      PgClient.prototype.query = query;
    }
    expect(sent).toEqual([
      expect.stringMatching(/^BEGIN; EXECUTE outbox_relay_checkpoint_and_read_begun\('it-round-trips', 501\)$/),
      expect.stringMatching(/^EXECUTE outbox_relay_advance_if_covered_begun\('it-round-trips', '\d+', '\d+', '\d+', '0', 1\); COMMIT$/),
    ]);
    expect(await relay.backlog()).toBe(0);
    await waitForReceived(1);
    expect(received).toEqual([row.id]);
  });

  it('reads nothing while another replica holds the checkpoint, and publishes once it lets go', async () => {
    const relay = await handDrivenRelay('it-locked');
    const rows = [tick(9_000), tick(9_001)];
    await db.dataSource.transaction((tx) =>
      appendToOutbox(
        sqlOfTransaction(tx),
        rows.map((envelope) => ({ topic, envelope })),
      ),
    );
    // The other replica: its pass holds the checkpoint's advisory lock in its transaction.
    const other = db.dataSource.createQueryRunner();
    await other.connect();
    try {
      await other.startTransaction();
      const [held] = (await other.query(`SELECT pg_try_advisory_xact_lock(hashtext('outbox-relay:' || current_schema() || ':' || $1)) AS held`, [
        'it-locked',
      ])) as { held: boolean }[];
      expect(held.held).toBe(true);
      for (let pass = 0; pass < 3; pass += 1) expect(await relay.publishBatch()).toBe(0);
      expect(await relay.backlog()).toBe(2);
      await other.rollbackTransaction();
    } finally {
      await other.release();
    }
    expect(await publishAll(relay, 2)).toBe(2);
    expect(await relay.backlog()).toBe(0);
    await waitForReceived(2);
    expect([...received].sort()).toEqual(rows.map((row) => row.id).sort());
  });

  it('publishes in transaction order where transaction ids gain a digit (99 before 100), and moves past them', async () => {
    const relay = await handDrivenRelay('it-digits');
    // Rows of finished transactions 98…101, written out of order (as late commits are): their
    // order for the relay is (tx_id, position), numerically. Read as text, '100' < '101' < '98' < '99':
    // a relay once sorted so, refused to pass the rows it had not read, and stood still for good
    // (before that check, it passed them unpublished) — the day a server's ids reached 10,000.
    const written = [
      { tx: '100', envelope: tick(9_000) },
      { tx: '99', envelope: tick(9_005) },
      { tx: '101', envelope: tick(9_010) },
      { tx: '98', envelope: tick(9_015) },
    ];
    for (const { tx, envelope } of written)
      await db.dataSource.query(`INSERT INTO outbox (tx_id, topic, message_key, event_id, payload) VALUES ($1::xid8, $2, $3, $4, $5::jsonb)`, [
        tx,
        topic,
        envelope.subject,
        envelope.id,
        JSON.stringify(envelope),
      ]);
    expect(await publishAll(relay, written.length)).toBe(written.length);
    expect(await relay.backlog()).toBe(0);
    await waitForReceived(written.length);
    // One subject, one partition: Kafka keeps the relay's order.
    const inTransactionOrder = [...written].sort((a, b) => Number(a.tx) - Number(b.tx)).map(({ envelope }) => envelope.id);
    expect(received).toEqual(inTransactionOrder);
    const [checkpoint] = await db.dataSource.query<{ tx_id: string }[]>(`SELECT tx_id::text AS tx_id FROM outbox_checkpoint WHERE relay = 'it-digits'`);
    expect(checkpoint?.tx_id).toBe('101');
  });

  describe('running on its own', () => {
    const applicationName = uniqueName('relay_idle');
    let relaySource: DataSource;

    beforeAll(async () => {
      // The relay gets connections of its own, so PostgreSQL can tell what it runs from what the test runs.
      relaySource = new DataSource({
        type: 'postgres',
        url: db.url,
        schema: db.schema,
        applicationName,
        extra: { options: `-c search_path=${db.schema}` },
      });
      await relaySource.initialize();
    });

    afterAll(async () => {
      await relaySource.destroy();
    });

    /** When the relay's connections last began a statement, and whether one is inside a transaction. */
    async function relayActivity(): Promise<{ lastStatement: number; inTransaction: number }> {
      const rows = await db.dataSource.query<{ last: number; in_tx: number }[]>(
        `SELECT coalesce(extract(epoch FROM max(query_start)) * 1000, 0)::float8 AS last, count(xact_start)::int AS in_tx
           FROM pg_stat_activity WHERE application_name = $1`,
        [applicationName],
      );
      return { lastStatement: rows[0]?.last ?? 0, inTransaction: rows[0]?.in_tx ?? 0 };
    }

    it('runs no statement while idle, and wakes on the commit of a new row', async () => {
      received.length = 0;
      await db.dataSource.query('TRUNCATE outbox'); // a new relay name starts from the beginning
      const relay = new OutboxRelay({ name: 'it-idle', dataSource: relaySource, publisher, logger });
      await relay.start();
      try {
        expect(relay.listening).toBe(true);
        const first = tick(8_000);
        await db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic, envelope: first }]));
        await waitFor(() => received.includes(first.id), isTrue, { what: 'the first row on Kafka', timeoutMs: 20_000, intervalMs: 20 });
        // After the batch the relay makes one more pass to find the outbox drained; then it sleeps.
        await waitFor(() => relay.idle, isTrue, {
          what: 'the relay to find the outbox drained and sleep',
          timeoutMs: 20_000,
          intervalMs: 20,
        });

        // Idle: the polling relay ran a transaction every 50 ms; this one must run nothing at all.
        const idleFrom = await relayActivity();
        await new Promise((r) => setTimeout(r, 1_500));
        const idleTo = await relayActivity();
        expect(idleTo.lastStatement).toBe(idleFrom.lastStatement);
        expect(idleTo.inTransaction).toBe(0);

        // The positive marker: the same measure sees the relay work as soon as a row commits.
        const second = tick(8_001);
        await db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic, envelope: second }]));
        await waitFor(() => received.includes(second.id), isTrue, { what: 'the second row on Kafka', timeoutMs: 20_000, intervalMs: 20 });
        expect((await relayActivity()).lastStatement).toBeGreaterThan(idleTo.lastStatement);
      } finally {
        await relay.stop();
      }
    });

    it('publishes a row that commits late, and rows held back by a transaction that announces nothing', async () => {
      received.length = 0;
      await db.dataSource.query('TRUNCATE outbox');
      const relay = new OutboxRelay({ name: 'it-late', dataSource: relaySource, publisher, logger, pendingRetryMs: 20 });
      await relay.start();
      const old = db.dataSource.createQueryRunner();
      const late = db.dataSource.createQueryRunner();
      try {
        // An older transaction that writes no outbox row (so it notifies no one when it ends)...
        await old.connect();
        await old.startTransaction();
        await old.query('SELECT pg_current_xact_id()');
        // ...one that takes a lower position but commits after a later one...
        const lateEvent = tick(9_000);
        const newEvent = tick(9_005); // same subject: same partition, so the order is visible
        await late.connect();
        await late.startTransaction();
        await appendToOutbox(sqlOf(late), [{ topic, envelope: lateEvent }]);
        await db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic, envelope: newEvent }]));
        await late.commitTransaction();
        const committed = Date.now();
        // The relay has been woken and has looked since both commits: it must hold both rows back.
        await waitFor(async () => (await relayActivity()).lastStatement > committed + 100, isTrue, {
          what: 'the relay to look at the rows',
          timeoutMs: 20_000,
          intervalMs: 20,
        });
        expect(received).toEqual([]);
        // While they wait, the relay watches the horizon with one autocommitted statement, not a pass (a transaction) each time.
        await waitFor(
          async () =>
            db.dataSource.query<{ query: string; in_tx: boolean }[]>(
              'SELECT query, xact_start IS NOT NULL AS in_tx FROM pg_stat_activity WHERE application_name = $1',
              [applicationName],
            ),
          (rows) => rows.some((row) => row.query.includes('pg_snapshot_xmin(pg_current_snapshot()) AS passed') && !row.in_tx),
          { what: "the relay's horizon probe", timeoutMs: 20_000, intervalMs: 10 },
        );
        expect(received).toEqual([]);

        // ...until the older transaction ends, without any notification: the relay's retry finds them.
        await old.commitTransaction();
        await waitFor(() => received.length >= 2, isTrue, { what: 'both rows on Kafka', timeoutMs: 20_000, intervalMs: 20 });
        await waitForReceived(2);
        expect(received).toEqual([lateEvent.id, newEvent.id]);
      } finally {
        if (old.isTransactionActive) await old.rollbackTransaction();
        await old.release();
        await late.release();
        await relay.stop();
      }
    });

    it('does not advance its checkpoint while Kafka refuses a batch, and publishes it once Kafka takes it', async () => {
      received.length = 0;
      await db.dataSource.query('TRUNCATE outbox');
      const missing = `${topic}-missing`;
      const missingReader = kafka.consumer({ groupId: uniqueName('it-relay-missing'), maxWaitTimeInMs: 100 });
      // A publisher of its own: its send stays in kafkajs' retries until the topic exists.
      const ownPublisher = new EventPublisher(kafka);
      const relay = new OutboxRelay({ name: 'it-failure', dataSource: relaySource, publisher: ownPublisher, logger });
      await relay.start();
      try {
        const event = tick(5_000);
        await db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic: missing, envelope: event }]));
        // The relay is inside its pass, waiting for Kafka: the row stays unpublished meanwhile.
        await waitFor(async () => (await relayActivity()).inTransaction > 0, isTrue, {
          what: 'the relay to try to publish',
          timeoutMs: 20_000,
          intervalMs: 20,
        });
        expect(await relay.backlog()).toBe(1);

        await createTestTopics([missing], 1);
        const got: string[] = [];
        await missingReader.connect();
        await missingReader.subscribe({ topic: missing, fromBeginning: true });
        await missingReader.run({ eachMessage: async ({ message }) => void got.push(message.headers!['event-id']!.toString()) });
        await waitFor(async () => (await relay.backlog()) === 0, isTrue, { what: 'the checkpoint to pass the row', timeoutMs: 20_000, intervalMs: 20 });
        await waitFor(() => got.length > 0, isTrue, { what: 'the row on Kafka', timeoutMs: 20_000, intervalMs: 20 });
        expect(got).toEqual([event.id]);
      } finally {
        await relay.stop();
        await ownPublisher.disconnect();
        await missingReader.disconnect();
        await deleteTestTopics([missing]);
      }
    });
    it('does not call a pass stuck that began after a sleep longer than the threshold', async () => {
      received.length = 0;
      await db.dataSource.query('TRUNCATE outbox');
      const { stream, lines } = logLines();
      const stuckLines = (): Array<Record<string, unknown>> =>
        lines().filter((line) => line.relay === 'it-woken' && typeof line.msg === 'string' && line.msg.includes('stuck'));
      /**
       * Kafka taking 800 ms to accept a batch: the watchdog (every 666 ms with a 2 s threshold) looks in
       * during each send. The pass's own time (wake-up, connection, read, send) stays well under 2 s even
       * on a loaded machine (the read alone took ~360 ms in a CI run); the sleep before it is 3 s.
       */
      class SlowPublisher extends EventPublisher {
        override async sendRaw(topicMessages: Parameters<EventPublisher['sendRaw']>[0]): Promise<void> {
          await new Promise((r) => setTimeout(r, 800));
          await super.sendRaw(topicMessages);
        }
      }
      const slow = new SlowPublisher(kafka);
      const relay = new OutboxRelay({
        name: 'it-woken',
        dataSource: relaySource,
        publisher: slow,
        logger: createLogger('relay-test', 'info', stream),
        stuckAfterMs: 2_000,
      });
      await relay.start();
      try {
        await waitFor(() => relay.idle, isTrue, { what: 'the relay asleep', timeoutMs: 20_000, intervalMs: 20 });
        // Asleep for longer than the threshold: nothing waits, so nothing is stuck.
        await new Promise((r) => setTimeout(r, 3_000));
        const event = tick(5_600);
        await db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic, envelope: event }]));
        await waitFor(() => received.includes(event.id), isTrue, { what: 'the row on Kafka', timeoutMs: 20_000, intervalMs: 20 });
        await waitFor(() => relay.idle, isTrue, { what: 'the relay asleep again, drained', timeoutMs: 20_000, intervalMs: 20 });
        expect(stuckLines()).toEqual([]);
      } finally {
        await relay.stop();
        await slow.disconnect();
      }
    });
    it('says where it is stuck when no pass finishes while work waits (here: Kafka never answers the send), once per episode', async () => {
      received.length = 0;
      await db.dataSource.query('TRUNCATE outbox');
      const missing = `${topic}-stuck`;
      const { stream, lines } = logLines();
      const stuckLines = (): Array<Record<string, unknown>> =>
        lines().filter((line) => line.relay === 'it-stuck' && typeof line.msg === 'string' && line.msg.includes('stuck'));
      // A publisher of its own: its send stays in kafkajs' retries until the topic exists.
      const ownPublisher = new SendingPublisher(kafka);
      const relay = new OutboxRelay({
        name: 'it-stuck',
        dataSource: relaySource,
        publisher: ownPublisher,
        logger: createLogger('relay-test', 'info', stream),
        stuckAfterMs: 1_500,
      });
      await relay.start();
      const got: string[] = [];
      const missingReader = kafka.consumer({ groupId: uniqueName('it-relay-stuck'), maxWaitTimeInMs: 100 });
      let created = false;
      try {
        const event = tick(5_500);
        await db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic: missing, envelope: event }]));
        // Once the relay is woken and its send has begun (a starvation before it wakes is before its
        // episode: which comes first, the commit's answer or the notification, is up to the machine)…
        await waitFor(() => ownPublisher.sending, isTrue, { what: "the relay's send", timeoutMs: 20_000, intervalMs: 10 });
        // …the process starved for 300 ms within the episode (synchronous work: no timer runs).
        const busyUntil = performance.now() + 300;
        while (performance.now() < busyUntil) {
          // busy
        }
        const [line] = await waitFor(stuckLines, (lines) => lines.length > 0, { what: 'the stuck line', timeoutMs: 20_000, intervalMs: 50 });
        expect(line).toMatchObject({ level: 'error', relay: 'it-stuck', phase: 'sending', failures: 0, lockedOut: 0, listening: true });
        // No pass has finished for the whole threshold; the send began within it (after the pass read its rows).
        expect(line.lastPassMsAgo).toBeGreaterThanOrEqual(1_500);
        expect(line.phaseForMs).toBeLessThanOrEqual(line.lastPassMsAgo as number);
        // The line tells the starvation: the worst event-loop delay since the last pass.
        expect(line.eventLoopDelayMaxMs).toBeGreaterThanOrEqual(250);

        await createTestTopics([missing], 1);
        created = true;
        await missingReader.connect();
        await missingReader.subscribe({ topic: missing, fromBeginning: true });
        await missingReader.run({ eachMessage: async ({ message }) => void got.push(message.headers!['event-id']!.toString()) });
        await waitFor(() => got.length > 0, isTrue, { what: 'the row on Kafka once the topic exists', timeoutMs: 20_000, intervalMs: 20 });
        await waitFor(() => relay.idle, isTrue, { what: 'the relay asleep, drained', timeoutMs: 20_000, intervalMs: 20 });
        // The episode was logged once, however long it lasted.
        expect(stuckLines()).toHaveLength(1);
        expect(got).toEqual([event.id]);
      } finally {
        // A failure before the topic existed leaves the send retrying: let it end before stopping.
        if (!created) await createTestTopics([missing], 1).catch(() => undefined);
        await relay.stop();
        await ownPublisher.disconnect();
        await missingReader.disconnect();
        await deleteTestTopics([missing]);
      }
    });

    it('logs a run of failed passes once when it starts and once when it ends, and counts every attempt', async () => {
      received.length = 0;
      await db.dataSource.query('TRUNCATE outbox');
      const { stream, lines } = logLines();
      const relayLines = (): Array<Record<string, unknown>> => lines().filter((line) => line.relay === 'it-failing');
      /** This relay's samples of a metric, by their `outcome` label ('' when it has none). */
      const samples = async (name: string): Promise<Record<string, number>> => {
        const { resourceMetrics } = await telemetry.prometheus.collect();
        const found: Record<string, number> = {};
        for (const sample of parsePrometheusText(new PrometheusSerializer().serialize(resourceMetrics)))
          if (sample.name === name && sample.labels.relay === 'it-failing') found[sample.labels.outcome ?? ''] = sample.value;
        return found;
      };
      const relay = new OutboxRelay({ name: 'it-failing', dataSource: relaySource, publisher, logger: createLogger('relay-test', 'info', stream) });
      await relay.start();
      try {
        expect(await samples('outbox_relay_failing')).toEqual({ '': 0 });
        // A real failure of every pass: the checkpoint table is out of reach until it is renamed back.
        await db.dataSource.query('ALTER TABLE outbox_checkpoint RENAME TO outbox_checkpoint_away');
        const event = tick(6_000);
        await db.dataSource.transaction((tx) => appendToOutbox(sqlOfTransaction(tx), [{ topic, envelope: event }]));
        // Several attempts fail (the first after the commit's notification, the others on the backoff).
        const failing = await waitFor(
          () => samples('outbox_publish_attempts_total'),
          (found) => (found.failed ?? 0) >= 3,
          {
            what: 'three failed attempts',
            timeoutMs: 20_000,
            intervalMs: 50,
          },
        );
        expect(failing.published).toBeUndefined();
        expect(await samples('outbox_relay_failing')).toEqual({ '': 1 });
        await db.dataSource.query('ALTER TABLE outbox_checkpoint_away RENAME TO outbox_checkpoint');
        await waitFor(() => received.includes(event.id), isTrue, { what: 'the row on Kafka after the recovery', timeoutMs: 30_000, intervalMs: 20 }).catch(
          async (error: unknown) => {
            throw new Error(
              `${(error as Error).message}; backlog ${await relay.backlog()}, lines ${JSON.stringify(relayLines())}, attempts ${JSON.stringify(await samples('outbox_publish_attempts_total'))}`,
            );
          },
        );
        await waitFor(() => relayLines().some((line) => line.state === 'publishing'), isTrue, {
          what: 'the recovery logged',
          timeoutMs: 5_000,
          intervalMs: 20,
        });

        // The row reaches Kafka during its pass's send, before that pass counts its attempt (and a pass that
        // found the row still behind the horizon may have logged the recovery first): wait for the count.
        const attempts = await waitFor(
          () => samples('outbox_publish_attempts_total'),
          (found) => (found.published ?? 0) >= 1,
          { what: 'the publishing attempt counted', timeoutMs: 5_000, intervalMs: 20 },
        );
        expect(attempts.published).toBeGreaterThanOrEqual(1);
        expect(await samples('outbox_relay_failing')).toEqual({ '': 0 });
        // Two lines at info and above for the whole run of failures, whatever the number of attempts.
        const lines = relayLines();
        expect(lines.map((line) => [line.level, line.state])).toEqual([
          ['error', 'failing'],
          ['info', 'publishing'],
        ]);
        expect(String((lines[0].err as { message?: string }).message)).toContain('outbox_checkpoint');
        expect(lines[1].failedAttempts).toBe(attempts.failed);
        expect(lines[1].failingForMs).toEqual(expect.any(Number));
      } finally {
        await db.dataSource.query('ALTER TABLE IF EXISTS outbox_checkpoint_away RENAME TO outbox_checkpoint');
        await relay.stop();
      }
    });
  });
});
