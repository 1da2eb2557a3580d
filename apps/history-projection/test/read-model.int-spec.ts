/**
 * The SQL projection against real PostgreSQL: it agrees with the pure folds, converges whatever
 * the order and duplication of events, rebuilds into a new version while the old one serves
 * (surviving a crash midway), and its queries use the indexes chosen for them.
 */
import 'reflect-metadata';
import type { EventEnvelope } from '@pay/contracts';
import type { Sql } from '@pay/platform';
import { sqlOfPool, sqlOfTransaction } from '@pay/platform';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { historyProjectionMigrations } from '../src/database/migrations';
import { projectEvents } from '../src/project-events/project-chunk';
import { entryFromRecord } from '../src/project-events/project-events';
import { storeAndProject } from '../src/project-events/store-and-project';
import { aggregateQuery } from '../src/aggregate-history/aggregate-query';
import { historyQuery } from '../src/query-history/history-query';
import { HistoryReader } from '../src/query-history/history-reader';
import { readModelTables } from '../src/read-model/read-model-tables';
import { listVersions, liveVersion } from '../src/read-model/read-model-version';
import { readModelChecksums, rebuildReadModel, SimulatedCrash } from '../src/rebuild-read-model/rebuild-read-model';
import { generateWorkload, partitionOf, prng, shuffle } from './history-workload';
import { dailyTotalsOf, projectInMemory } from './in-memory-projection';

const workload = generateWorkload({ seed: 11, persons: 40, merchants: 6, nonProfits: 2, payments: 500 });

async function ingestLive(schema: TestSchema, events: readonly EventEnvelope[], topicOf = (e: EventEnvelope) => e.type.split('.')[0]): Promise<void> {
  let offset = 0;
  for (const envelope of events) {
    offset += 1;
    await schema.dataSource.transaction((tx) =>
      storeAndProject(sqlOfTransaction(tx), [{ envelope, topic: topicOf(envelope), partition: partitionOf(envelope.subject, 3), offset: String(offset) }]),
    );
  }
}

async function entriesOf(sql: Sql, version: number): Promise<Map<string, ReturnType<typeof entryFromRecord>>> {
  const rows = await sql.query<Parameters<typeof entryFromRecord>[0]>(`SELECT * FROM ${readModelTables(version).entries}`);
  return new Map(rows.map((r) => [r.entry_id, entryFromRecord(r)]));
}

async function dailyTotalsInTable(sql: Sql, version: number): Promise<Map<string, string>> {
  const rows = await sql.query<Record<string, string>>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, app, country, currency, kind, method_type, status, entries::text, amount::text, net_amount::text FROM ${readModelTables(version).dailyTotals}`,
  );
  return new Map(
    rows.map((r) => [[r.day, r.app, r.country, r.currency, r.kind, r.method_type, r.status].join('|'), `${r.entries}|${r.amount}|${r.net_amount}`]),
  );
}

describe('history read model on PostgreSQL', () => {
  let live: TestSchema;
  let shuffled: TestSchema;

  beforeAll(async () => {
    [live, shuffled] = await Promise.all([
      createTestSchema('it_history_live', historyProjectionMigrations),
      createTestSchema('it_history_shuffled', historyProjectionMigrations),
    ]);
    await ingestLive(live, workload.events);
  });

  afterAll(async () => {
    await Promise.all([live?.drop(), shuffled?.drop()]);
  });

  it('projects event by event exactly what the pure folds compute, daily totals included', async () => {
    const expected = projectInMemory(workload.events);
    const actual = await entriesOf(sqlOfPool(live.dataSource), 1);
    expect(actual.size).toBe(expected.entries.size);
    for (const [id, entry] of expected.entries) expect(actual.get(id)).toEqual(entry);
    expect(await dailyTotalsInTable(sqlOfPool(live.dataSource), 1)).toEqual(dailyTotalsOf(expected.entries.values()));
    const [{ n }] = await live.dataSource.query<Array<{ n: string }>>('SELECT count(*)::text AS n FROM raw_events');
    expect(Number(n)).toBe(workload.events.length);
  });

  it('converges to the same read model when every event comes twice, in another order, in batches', async () => {
    const random = prng(99);
    // Each event twice, each copy on a random "partition"; partitions interleave in random order.
    const copies = shuffle([...workload.events, ...workload.events], random);
    const lanes: EventEnvelope[][] = [[], [], []];
    for (const event of copies) lanes[Math.floor(random() * 3)].push(event);
    const order: EventEnvelope[] = [];
    while (lanes.some((lane) => lane.length > 0)) {
      const lane = lanes[Math.floor(random() * 3)];
      order.push(...lane.splice(0, 1 + Math.floor(random() * 20)));
    }
    for (let i = 0; i < order.length; i += 97) {
      await shuffled.dataSource.transaction((tx) => projectEvents(sqlOfTransaction(tx), 1, order.slice(i, i + 97)));
    }
    expect(await readModelChecksums(sqlOfPool(shuffled.dataSource), 1)).toEqual(await readModelChecksums(sqlOfPool(live.dataSource), 1));
  });

  it('rebuilds into a new version while the old one serves, survives a crash midway, and switches atomically', async () => {
    const reader = new HistoryReader(live.dataSource);
    const person = workload.persons[0];
    // The workload is in January; events arriving during the rebuild are in March.
    const january = { to: new Date('2026-02-15T00:00:00Z') };
    const before = await reader.page({ kind: 'person', personId: person }, january, { limit: 500, order: 'desc' });
    expect(before.entries.length).toBeGreaterThan(0);

    await expect(rebuildReadModel({ dataSource: live.dataSource, batchSize: 300, crashAfterBatches: 2 })).rejects.toBeInstanceOf(SimulatedCrash);
    expect(await liveVersion(sqlOfPool(live.dataSource))).toBe(1);
    expect((await listVersions(sqlOfPool(live.dataSource))).map((v) => [v.version, v.state, v.eventsApplied])).toEqual([
      [1, 'live', 0],
      [2, 'building', 600],
    ]);
    expect(await reader.page({ kind: 'person', personId: person }, january, { limit: 500, order: 'desc' })).toEqual(before);

    // The rebuild resumes while live events keep coming and queries keep being answered.
    const more = generateWorkload({
      seed: 12,
      persons: 40,
      merchants: 6,
      nonProfits: 2,
      payments: 60,
      start: new Date('2026-03-01T00:00:00Z'),
      paymentPrefix: 'march',
      walletEvents: false,
    });
    const fresh = more.events.filter((e) => e.type.startsWith('payments.'));
    const phases = new Set<string>();
    let rebuilding = true;
    const rebuild = rebuildReadModel({ dataSource: live.dataSource, batchSize: 300, progressIntervalMs: 0, onProgress: (p) => phases.add(p.phase) }).finally(
      () => {
        rebuilding = false;
      },
    );
    const answers: unknown[] = [];
    const queries = (async () => {
      while (rebuilding) answers.push(await reader.page({ kind: 'person', personId: person }, january, { limit: 500, order: 'desc' }));
    })();
    const [result] = await Promise.all([rebuild, ingestLive(live, fresh), queries]);

    expect(result).toMatchObject({ version: 2, previousVersion: 1, resumed: true });
    expect([...phases]).toEqual(expect.arrayContaining(['replaying', 'indexing', 'catching-up', 'switching', 'done']));
    expect(answers.length).toBeGreaterThan(0);
    for (const answer of answers) expect(answer).toEqual(before);
    expect(await liveVersion(sqlOfPool(live.dataSource))).toBe(2);
    expect((await listVersions(sqlOfPool(live.dataSource))).map((v) => [v.version, v.state])).toEqual([
      [1, 'retired'],
      [2, 'live'],
    ]);
    // The new version holds everything: events replayed, and those that arrived before and after the switch.
    const expected = projectInMemory([...workload.events, ...fresh]);
    const rebuilt = await entriesOf(sqlOfPool(live.dataSource), 2);
    expect(rebuilt.size).toBe(expected.entries.size);
    for (const [id, entry] of expected.entries) expect(rebuilt.get(id)).toEqual(entry);

    // A second rebuild replays everything again, agrees with the first, and drops the oldest retired version.
    const again = await rebuildReadModel({ dataSource: live.dataSource, batchSize: 1_000 });
    expect(again).toMatchObject({ version: 3, previousVersion: 2, resumed: false, droppedVersions: [1] });
    expect(await readModelChecksums(sqlOfPool(live.dataSource), 3)).toEqual(await readModelChecksums(sqlOfPool(live.dataSource), 2));
  });

  it('replays in (transaction, position) order also where positions gain a digit inside one transaction', async () => {
    const bulk = await createTestSchema('it_history_bulk', historyProjectionMigrations);
    try {
      await bulk.dataSource.query("SELECT setval('raw_events_position_seq', 9900)");
      // One transaction stores 400 events (positions 9901 to 10300), as a batch of the bench would.
      const events = workload.events.slice(0, 400);
      await bulk.dataSource.transaction(async (tx) => {
        for (const [i, envelope] of events.entries()) {
          await tx.query(
            `INSERT INTO raw_events (event_id, topic, kafka_partition, kafka_offset, type, occurred_at, envelope) VALUES ($1, 'payments', 0, $2, $3, $4, $5::jsonb)`,
            [envelope.id, i, envelope.type, envelope.occurredAt, JSON.stringify(envelope)],
          );
        }
      });
      const result = await rebuildReadModel({ dataSource: bulk.dataSource, batchSize: 75 });
      expect(result.events).toBe(events.length);
      const expected = projectInMemory(events);
      expect((await entriesOf(sqlOfPool(bulk.dataSource), 2)).size).toBe(expected.entries.size);
    } finally {
      await bulk.drop();
    }
  });

  it('runs each query on the index chosen for it (EXPLAIN)', async () => {
    const db = shuffled.dataSource;
    const t = readModelTables(1);
    // Enough rows for the planner to care: 200,000 entries of 20,000 payers and 500 merchants.
    await db.query(
      `INSERT INTO ${t.entries} (entry_id, payment_id, kind, status, payer_id, counterparty_type, counterparty_id, app, country, currency, amount, net_amount, method_type, occurred_at, updated_at)
       SELECT 'payment:x-' || g, 'x-' || g, 'purchase', 'captured', 'px-' || (g % 20000), 'merchant', 'mx-' || (g % 500), 'instagram', 'DE', 'EUR', 100 + g % 5000, 100 + g % 5000,
              'card', timestamptz '2026-01-01' + g * interval '1 minute', timestamptz '2026-01-01' + g * interval '1 minute'
       FROM generate_series(1, 200000) AS g`,
    );
    await db.query(`ANALYZE ${t.entries}`);
    const plan = async (built: { text: string; values: unknown[] }): Promise<string> =>
      (await db.query<Array<{ 'QUERY PLAN': string }>>(`EXPLAIN ${built.text}`, built.values)).map((r) => r['QUERY PLAN']).join('\n');
    const after = { occurredAt: '2026-03-01T00:00:00.000000Z', entryId: 'payment:x-99999' };
    // A handful of rows may be read by a bitmap scan of the same index and sorted: as good.
    const readsIndex = (index: string): RegExp => new RegExp(`(Index Scan using|Bitmap Index Scan on) ${index}\\b`);

    const person = await plan(historyQuery(t, { kind: 'person', personId: 'px-42' }, { apps: ['instagram'], minAmount: 200n }, 'desc', { limit: 50, after }));
    expect(person).toMatch(readsIndex(`${t.entries}_payer`));
    expect(person).toMatch(readsIndex(`${t.entries}_counterparty`));
    expect(person).not.toMatch(/Seq Scan/);

    const merchant = await plan(
      historyQuery(t, { kind: 'counterparty', counterpartyType: 'merchant', counterpartyId: 'mx-7' }, {}, 'desc', { limit: 50, after }),
    );
    expect(merchant).toMatch(new RegExp(`Index Scan using ${t.entries}_counterparty`));
    expect(merchant).not.toMatch(/Sort|Seq Scan/);

    const everyone = await plan(historyQuery(t, { kind: 'all' }, { kinds: ['purchase'] }, 'desc', { limit: 50, after }));
    expect(everyone).toMatch(new RegExp(`Index Scan using ${t.entries}_time`));
    expect(everyone).not.toMatch(/Sort|Seq Scan/);

    const oldestFirst = await plan(historyQuery(t, { kind: 'counterparty', counterpartyType: 'merchant', counterpartyId: 'mx-7' }, {}, 'asc', { limit: 50 }));
    expect(oldestFirst).toMatch(new RegExp(`Index Scan Backward using ${t.entries}_counterparty`));

    const range = await plan(
      aggregateQuery(t, {
        interval: 'day',
        groupBy: ['app'],
        filters: { minAmount: 1000n, from: new Date('2026-02-01T00:00:00Z'), to: new Date('2026-02-03T00:00:00Z') },
      }),
    );
    expect(range).toMatch(new RegExp(`Index Scan using ${t.entries}_time|Bitmap Index Scan on ${t.entries}_time`));

    const rollup = aggregateQuery(t, { interval: 'month', groupBy: ['country'], filters: {} });
    expect(rollup.basis).toBe('daily_totals');
    expect(await plan(rollup)).toMatch(new RegExp(t.dailyTotals));
  });
});
