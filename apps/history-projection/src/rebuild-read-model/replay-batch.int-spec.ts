/**
 * The rebuild plans batch N+1 while batch N is being written: what N wrote reaches N+1 through
 * N's plan, not the database. Batches of one event make every event depend on the one before;
 * the rebuilt version must equal the live one whatever the order the events were stored in.
 */
import 'reflect-metadata';
import type { EventEnvelope } from '@pay/contracts';
import { sqlOfPool, sqlOfTransaction } from '@pay/platform';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { historyProjectionMigrations } from '../database/migrations';
import { readModelTables } from '../read-model/read-model-tables';
import { storeAndProject } from '../project-events/store-and-project';
import { generateWorkload, prng, shuffle } from '../../test/history-workload';
import { readModelChecksums, rebuildReadModel } from './rebuild-read-model';

const workload = generateWorkload({ seed: 21, persons: 12, merchants: 3, nonProfits: 1, payments: 60 });

async function storeLive(schema: TestSchema, events: readonly EventEnvelope[]): Promise<void> {
  let offset = 0;
  for (const envelope of events) {
    offset += 1;
    await schema.dataSource.transaction((tx) =>
      storeAndProject(sqlOfTransaction(tx), [{ envelope, topic: envelope.type.split('.')[0], partition: 0, offset: String(offset) }]),
    );
  }
}

describe('rebuild with batches planned while the previous one is written', () => {
  let schema: TestSchema;

  afterEach(async () => {
    await schema?.drop();
  });

  it.each([
    [
      'payments before the wallet tells their methods',
      (events: EventEnvelope[]) => [...events.filter((e) => !e.type.startsWith('wallet.')), ...events.filter((e) => e.type.startsWith('wallet.'))],
    ],
    ['a shuffled order', (events: EventEnvelope[]) => shuffle([...events], prng(5))],
  ])('rebuilds exactly the live read model from %s, one event per batch', async (_, order) => {
    schema = await createTestSchema('it_replay_batch', historyProjectionMigrations);
    await storeLive(schema, order(workload.events));
    const result = await rebuildReadModel({ dataSource: schema.dataSource, batchSize: 1 });
    expect(result.events).toBe(workload.events.length);
    expect(await readModelChecksums(sqlOfPool(schema.dataSource), 2)).toEqual(await readModelChecksums(sqlOfPool(schema.dataSource), 1));
  });
});

describe('rebuild writing its batches with COPY', () => {
  let schema: TestSchema;

  afterEach(async () => {
    await schema?.drop();
  });

  // COPY's text format gives tab, newline, carriage return and backslash a meaning of their own:
  // an id holding them lands in entries (text), postings (text) and facts (inside jsonb) as the
  // live path, which sends JSON, stores it.
  it('stores values holding COPY delimiters and escapes exactly as the live path does', async () => {
    const merchant = workload.merchants[0];
    const awkward = 'm\t"tab\there\nline\r\\back\\slash\\N';
    const events = JSON.parse(JSON.stringify(workload.events).replaceAll(merchant, JSON.stringify(awkward).slice(1, -1))) as EventEnvelope[];
    schema = await createTestSchema('it_replay_copy', historyProjectionMigrations);
    await storeLive(schema, events);
    const result = await rebuildReadModel({ dataSource: schema.dataSource });
    expect(result.events).toBe(events.length);
    const sql = sqlOfPool(schema.dataSource);
    expect(await readModelChecksums(sql, 2)).toEqual(await readModelChecksums(sql, 1));
    const t = readModelTables(2);
    const [found] = await sql.query<{ entries: number; postings: number; facts: number }>(
      `SELECT (SELECT count(*)::int FROM ${t.entries} WHERE counterparty_id = $1) AS entries,
              (SELECT count(*)::int FROM ${t.ledgerPostings} WHERE owner_id = $1) AS postings,
              (SELECT count(*)::int FROM ${t.facts} WHERE strpos(facts::text, to_json($1::text)::text) > 0) AS facts`,
      [awkward],
    );
    expect(found.entries).toBeGreaterThan(0);
    expect(found.postings).toBeGreaterThan(0);
    expect(found.facts).toBeGreaterThan(0);
  });
});
