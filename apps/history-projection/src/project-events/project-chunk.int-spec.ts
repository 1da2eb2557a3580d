/**
 * The live path's chunk in three statements (lock, read, write) on real PostgreSQL: how many
 * statements a chunk takes, and that chunks applied concurrently by three "partitions" give
 * exactly what the pure folds compute (no lost update when a transaction waited for another's
 * lock, no deadlock between the lock order of its statements).
 */
import 'reflect-metadata';
import type { EventEnvelope } from '@pay/contracts';
import type { Sql } from '@pay/platform';
import { sqlOf, sqlOfPool, sqlOfTransaction } from '@pay/platform';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { historyProjectionMigrations } from '../database/migrations';
import { readModelTables } from '../read-model/read-model-tables';
import { generateWorkload } from '../../test/history-workload';
import { dailyTotalsOf, projectInMemory } from '../../test/in-memory-projection';
import { LiveVersionGuess } from './project-chunk';
import { entryFromRecord } from './project-events';
import { storeAndProject } from './store-and-project';
import { WALLET_EVENT_TYPES } from './wallet-profile';

const workload = generateWorkload({ seed: 31, persons: 30, merchants: 5, nonProfits: 2, payments: 300 });

const topicOf = (e: EventEnvelope): string => e.type.split('.')[0];
const tellsAMethod = (e: EventEnvelope): boolean => e.type === WALLET_EVENT_TYPES.methodAdded || e.type === WALLET_EVENT_TYPES.methodRemoved;

/** Sql that counts the statements run through it (not prepared: the counter is not a pg client). */
function counting(sql: Sql): { sql: Sql; texts: string[] } {
  const texts: string[] = [];
  return {
    texts,
    sql: {
      query: <Row>(text: string, parameters?: readonly unknown[]) => {
        texts.push(text);
        return sql.query<Row>(text, parameters);
      },
    },
  };
}

async function expectFolds(schema: TestSchema): Promise<void> {
  const sql = sqlOfPool(schema.dataSource);
  const t = readModelTables(1);
  const expected = projectInMemory(workload.events);
  const rows = await sql.query<Parameters<typeof entryFromRecord>[0]>(`SELECT * FROM ${t.entries}`);
  const actual = new Map(rows.map((r) => [r.entry_id, entryFromRecord(r)]));
  expect(actual.size).toBe(expected.entries.size);
  for (const [id, entry] of expected.entries) expect(actual.get(id)).toEqual(entry);
  const totals = await sql.query<Record<string, string>>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, app, country, currency, kind, method_type, status, entries::text, amount::text, net_amount::text FROM ${t.dailyTotals}`,
  );
  expect(
    new Map(totals.map((r) => [[r.day, r.app, r.country, r.currency, r.kind, r.method_type, r.status].join('|'), `${r.entries}|${r.amount}|${r.net_amount}`])),
  ).toEqual(dailyTotalsOf(expected.entries.values()));
}

describe('the live chunk in three statements', () => {
  let schema: TestSchema;

  afterEach(async () => {
    await schema?.drop();
  });

  it('takes three statements per chunk (a fourth when a daily total empties), one when nothing is projected', async () => {
    schema = await createTestSchema('it_history_chunk', historyProjectionMigrations);
    const live = new LiveVersionGuess();
    const counts = new Map<string, number[]>();
    let offset = 0;
    for (const envelope of workload.events) {
      offset += 1;
      const counted = await schema.dataSource.transaction(async (tx) => {
        const c = counting(sqlOfTransaction(tx));
        await storeAndProject(c.sql, [{ envelope, topic: topicOf(envelope), partition: 0, offset: String(offset) }], live);
        return c.texts;
      });
      if (offset === 1) {
        // The first chunk reads the live version before it can guess it.
        expect(counted[0]).toMatch(/^SELECT live_version FROM read_model_pointer$/);
        counted.shift();
      }
      expect(counted[0]).toMatch(/read_model_pointer .* FOR SHARE/s);
      const kind = tellsAMethod(envelope) ? 'stepwise' : envelope.type;
      counts.set(kind, [...(counts.get(kind) ?? []), counted.length]);
    }
    const all = [...counts.entries()].filter(([kind]) => kind !== 'stepwise');
    expect(all.length).toBeGreaterThan(5);
    for (const [kind, n] of all) {
      // A ledger transaction of no payment has nothing to read or write; one that names a payment
      // changes an entry but no daily total. A payment's status moves its entry from one daily
      // total to another, emptying the old one when it was the only entry there (here, always).
      const expected = kind === 'ledger.transaction.recorded' ? [1, 3] : kind.startsWith('payments.') ? [3, 4] : [3];
      expect({ kind, statements: [...new Set(n)].filter((x) => !expected.includes(x)) }).toEqual({ kind, statements: [] });
    }
    expect(counts.get('ledger.transaction.recorded')).toContain(3);
    await expectFolds(schema);
  });

  it('gives what the pure folds compute when three partitions apply chunks concurrently', async () => {
    schema = await createTestSchema('it_history_chunk_concurrent', historyProjectionMigrations);
    const live = new LiveVersionGuess();
    // A payment's events spread over the three lanes (as redeliveries and its ledger transactions
    // can be), in small chunks: the lanes' transactions contend for its facts, entries and daily totals.
    const lanes: EventEnvelope[][] = [[], [], []];
    workload.events.forEach((event, i) => lanes[i % 3].push(event));
    await Promise.all(
      lanes.map(async (lane, partition) => {
        for (let i = 0; i < lane.length; i += 3) {
          const chunk = lane.slice(i, i + 3);
          await schema.dataSource.transaction((tx) =>
            storeAndProject(
              sqlOfTransaction(tx),
              chunk.map((envelope, j) => ({ envelope, topic: topicOf(envelope), partition, offset: String(i + j) })),
              live,
            ),
          );
        }
      }),
    );
    await expectFolds(schema);
  });

  it('reads what a transaction it waited for committed: the later events of a payment are not lost', async () => {
    schema = await createTestSchema('it_history_chunk_wait', historyProjectionMigrations);
    const events = workload.events.filter((e) => e.subject === 'pay-00000016');
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['payments.payment.initiated', 'payments.payment.captured']));
    const [first, second] = [events.slice(0, 2), events.slice(2)];
    const live = new LiveVersionGuess();
    const consumed = (chunk: EventEnvelope[], offset: number) =>
      chunk.map((envelope, i) => ({ envelope, topic: topicOf(envelope), partition: 0, offset: String(offset + i) }));
    const [one, two] = [schema.dataSource.createQueryRunner(), schema.dataSource.createQueryRunner()];
    try {
      await one.startTransaction();
      await two.startTransaction();
      const [{ pid }] = (await two.query('SELECT pg_backend_pid() AS pid')) as Array<{ pid: number }>;
      await storeAndProject(sqlOf(one), consumed(first, 0), live);
      // The second chunk's lock statement waits for the first's uncommitted rows of the payment...
      const applying = storeAndProject(sqlOf(two), consumed(second, 10), live);
      const sql = sqlOfPool(schema.dataSource);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const [state] = await sql.query<{ waiting: string | null }>('SELECT wait_event_type AS waiting FROM pg_stat_activity WHERE pid = $1', [pid]);
        if (state?.waiting === 'Lock') break;
        if (Date.now() > deadline) throw new Error('the second chunk never waited for the first one');
        await new Promise((resolve) => setImmediate(resolve));
      }
      await one.commitTransaction();
      // ...and then reads the payment as the first committed it.
      await applying;
      await two.commitTransaction();
    } finally {
      await Promise.all([one.release(), two.release()]);
    }
    const expected = projectInMemory(events);
    const rows = await sqlOfPool(schema.dataSource).query<Parameters<typeof entryFromRecord>[0]>(`SELECT * FROM ${readModelTables(1).entries}`);
    expect(rows.map(entryFromRecord)).toEqual([...expected.entries.values()]);
  });
});
