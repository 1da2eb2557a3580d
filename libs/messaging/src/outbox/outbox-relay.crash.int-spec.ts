/**
 * The ledger's first rule under crashes (issue 15, docs/benchmarks.md "Session 12 — recovery"):
 * every committed outbox row reaches Kafka, whatever process is SIGKILLed when. Writers (concurrent
 * transactions, some committing late, in savepoints, ids taken early) and the relay run in child
 * processes (outbox-stress.fixture.ts), as payment-orchestration runs them: a "service" process with
 * both, a second process of writers only; rounds SIGKILL the service (writers and relay mid-flight)
 * and the writers, each replaced by a process loaded beforehand. At the end the writers go quiet and
 * every event id of the outbox table — the rows that committed — must be read back from Kafka.
 */
import { resolve } from 'node:path';
import type { FixtureProcess, TestSchema } from '@pay/testing';
import {
  createTestSchema,
  createTestTopics,
  deleteTestTopics,
  startFixtureProcess,
  testKafka,
  testKafkaBrokers,
  testKafkaSasl,
  uniqueName,
  waitFor,
} from '@pay/testing';
import type { Consumer } from 'kafkajs';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { OUTBOX_NOTIFY_SQL, OUTBOX_TABLE_SQL } from './outbox.schema';

class CreateOutbox1700000000002 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(OUTBOX_TABLE_SQL);
    await runner.query(OUTBOX_NOTIFY_SQL);
  }
  async down(): Promise<void> {}
}

const FIXTURE = resolve(__dirname, 'outbox-stress.fixture.ts');
const PARTITIONS = 3;
const WRITERS = 6;
/**
 * SIGKILL rounds: each kills the service process (writers and relay; even rounds as its relay starts
 * a send to Kafka), odd ones the writers' process too. OUTBOX_CRASH_ROUNDS raises it for a soak run by hand (docs/benchmarks.md, "Session 12 — relay").
 */
const ROUNDS = Number(process.env.OUTBOX_CRASH_ROUNDS ?? '4');
/** Rows committed between two kills. */
const ROWS_PER_ROUND = 150;
/**
 * How long the relay may wait to publish: it publishes a row only once every older transaction of
 * the whole server has ended (pg_snapshot_xmin is cluster-wide), so another test's long transaction
 * on the same server (the tiers run two files at once) holds it back meanwhile — as any service's
 * long transaction holds back every relay of its server in production (docs/operations.md).
 */
const HORIZON_WAIT_MS = 90_000;

type Fixture = FixtureProcess;

describe('the outbox relay with its writers and itself SIGKILLed mid-flight', () => {
  let db: TestSchema;
  let reader: Consumer;
  const kafka = testKafka();
  const topic = uniqueName('it.relay-crash').replace(/_/g, '-');
  const received = new Set<string>();
  const fixtures: Fixture[] = [];

  beforeAll(async () => {
    db = await createTestSchema('it_relay_crash', [CreateOutbox1700000000002], 5);
    await createTestTopics([topic], PARTITIONS);
    reader = kafka.consumer({ groupId: uniqueName('it-relay-crash-reader'), maxWaitTimeInMs: 100 });
    await reader.connect();
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        received.add(message.headers!['event-id']!.toString());
      },
    });
  });

  afterAll(async () => {
    for (const fixture of fixtures) fixture.child.kill('SIGKILL');
    await reader.disconnect();
    await deleteTestTopics([topic]);
    await db.drop();
  });

  /** Starts a fixture process and waits until it has loaded (it runs once told `go`). */
  async function load(what: { writers: number; relay: boolean }): Promise<Fixture> {
    const fixture = startFixtureProcess(FIXTURE, {
      DATABASE_URL: db.url,
      STRESS_SCHEMA: db.schema,
      STRESS_TOPIC: topic,
      STRESS_WRITERS: String(what.writers),
      STRESS_RELAY: what.relay ? '1' : '0',
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      // Its credentials (a broker with SASL) through its environment, not its command line.
      STRESS_SASL: JSON.stringify(testKafkaSasl()),
    });
    fixtures.push(fixture);
    await fixture.loaded('a stress process loaded', 60_000);
    return fixture;
  }

  async function kill(fixture: Fixture): Promise<void> {
    if (fixture.child.exitCode !== null) throw new Error(`a stress process had exited before its kill: ${fixture.errors()}`);
    const exited = new Promise((resolve) => fixture.child.once('exit', resolve));
    fixture.child.kill('SIGKILL');
    await exited;
  }

  /** SIGKILLs the process as its relay starts handing a batch to Kafka (the fixture says `sending` first). */
  async function killAtNextSend(fixture: Fixture): Promise<void> {
    const exited = new Promise((resolve) => fixture.child.once('exit', resolve));
    const stdout = fixture.child.stdout!;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        if (!chunk.toString().includes('sending')) return;
        fixture.child.kill('SIGKILL');
        stdout.off('data', onData);
        resolve();
      };
      stdout.on('data', onData);
      timer = setTimeout(() => reject(new Error(`the relay sent no batch within ${HORIZON_WAIT_MS / 1000} s: ${fixture.errors()}`)), HORIZON_WAIT_MS);
    }).finally(() => clearTimeout(timer));
    await exited;
  }

  const committed = async (): Promise<number> => Number((await db.dataSource.query('SELECT count(*) AS n FROM outbox'))[0].n);
  /** Rows committed while their process is running: the kill comes with transactions in flight. */
  async function rowsCommitted(count: number): Promise<void> {
    const from = await committed();
    await waitFor(committed, (n) => n >= from + count, { what: `${count} more outbox rows committed`, timeoutMs: 20_000, intervalMs: 20 });
  }

  it(
    'publishes every committed row to Kafka, through SIGKILLs of the writers and of the relay',
    async () => {
      let service = await load({ writers: WRITERS, relay: true });
      let writers = await load({ writers: WRITERS, relay: false });
      service.send('go');
      writers.send('go');
      for (let round = 0; round < ROUNDS; round++) {
        // The next processes load while these run: the kill is followed by a start, as a restart.
        const nextService = await load({ writers: WRITERS, relay: true });
        const nextWriters = round % 2 === 1 ? await load({ writers: WRITERS, relay: false }) : undefined;
        await rowsCommitted(ROWS_PER_ROUND);
        // Even rounds: the kill lands as the relay hands a batch to Kafka; odd ones: anywhere in its loop.
        if (round % 2 === 0) await killAtNextSend(service);
        else await kill(service);
        if (nextWriters) await kill(writers);
        service = nextService;
        service.send('go');
        if (nextWriters) {
          writers = nextWriters;
          writers.send('go');
        }
      }
      await rowsCommitted(ROWS_PER_ROUND);
      // The writers finish their transactions in hand; the last relay publishes the rest.
      service.send('quiet');
      writers.send('quiet');
      await waitFor(() => service.lines.includes('quiet') && writers.lines.includes('quiet'), Boolean, {
        what: 'the writers quiet',
        timeoutMs: 10_000,
        intervalMs: 20,
      });

      const rows: Array<{ event_id: string; tx_id: string; position: string }> = await db.dataSource.query(
        'SELECT o.event_id, o.tx_id::text AS tx_id, o.position FROM outbox o ORDER BY o.tx_id, o.position',
      );
      type Checkpoint = Array<{ tx_id: string; position: string }>;
      const [checkpoint] = await waitFor<Checkpoint>(
        () => db.dataSource.query(`SELECT tx_id::text AS tx_id, position FROM outbox_checkpoint WHERE relay = 'stress'`),
        (found) => {
          const last = rows[rows.length - 1];
          const at = found[0];
          return !!at && (BigInt(at.tx_id) > BigInt(last.tx_id) || (at.tx_id === last.tx_id && BigInt(at.position) >= BigInt(last.position)));
        },
        { what: 'the relay checkpoint past the last committed row', timeoutMs: HORIZON_WAIT_MS, intervalMs: 50 },
      ).catch((error: Error) => {
        // What the last relay logged (its stuck line names the phase it waits in) and the server's oldest transactions.
        const logged = service.lines.filter((line) => line.startsWith('{')).slice(-10);
        return db.dataSource
          .query(
            `SELECT datname, application_name, state, backend_xid::text, now() - xact_start AS age FROM pg_stat_activity
              WHERE backend_xid IS NOT NULL ORDER BY xact_start LIMIT 5`,
          )
          .then((oldest: unknown) => {
            throw new Error(`${error.message}; the relay logged ${JSON.stringify(logged)}; oldest transactions ${JSON.stringify(oldest)}`);
          });
      });
      const missing = (): typeof rows => rows.filter((row) => !received.has(row.event_id));
      await waitFor(
        () => missing().length,
        (n) => n === 0,
        { what: 'every committed row read back from Kafka', timeoutMs: 60_000, intervalMs: 50 },
      ).catch((error: Error) => {
        throw new Error(
          `${error.message}: ${missing().length} of ${rows.length} rows missing (checkpoint ${checkpoint.tx_id}/${checkpoint.position}): ${JSON.stringify(missing().slice(0, 10))}`,
        );
      });
      process.stderr.write(`[outbox relay crash] ${rows.length} committed rows, ${ROUNDS} SIGKILLs of the relay's process, every row read back from Kafka\n`);
      expect(rows.length).toBeGreaterThan((ROUNDS + 1) * ROWS_PER_ROUND);
      expect(missing()).toEqual([]);
    },
    // Each send awaited may wait out another test's transaction (HORIZON_WAIT_MS), as may the last checkpoint.
    120_000 + Math.ceil(ROUNDS / 2) * HORIZON_WAIT_MS + HORIZON_WAIT_MS + ROUNDS * 10_000,
  );
});
