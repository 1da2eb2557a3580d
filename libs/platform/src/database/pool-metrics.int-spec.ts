/** The connection pool's metrics (observeConnectionPool) against a real pool on real PostgreSQL, as Prometheus reads them. */
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { startTelemetry } from '@pay/observability';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, parsePrometheusText, uniqueName, waitFor } from '@pay/testing';
import type { QueryRunner } from 'typeorm';
import { observeConnectionPool } from './pool-metrics';

const telemetry = startTelemetry({ service: 'pool-metrics-test' });
const POOL = uniqueName('pool');
let db: TestSchema;

/** This pool's samples of the three metrics: `used`, `idle`, `max`, `pending`. */
async function readings(): Promise<Record<string, number>> {
  const { resourceMetrics } = await telemetry.prometheus.collect();
  const found: Record<string, number> = {};
  for (const sample of parsePrometheusText(new PrometheusSerializer().serialize(resourceMetrics))) {
    if (sample.labels.db_client_connection_pool_name !== POOL) continue;
    if (sample.name === 'db_client_connection_count') found[sample.labels.db_client_connection_state ?? '?'] = sample.value;
    if (sample.name === 'db_client_connection_max') found.max = sample.value;
    if (sample.name === 'db_client_connection_pending_requests') found.pending = sample.value;
  }
  return found;
}

beforeAll(async () => {
  db = await createTestSchema('it_pool_metrics', [], 2);
  observeConnectionPool(db.dataSource, POOL);
});

afterAll(async () => {
  await db?.drop();
  await telemetry.shutdown();
});

it('counts the connections in use, the idle ones, the pool size and the callers waiting for a connection', async () => {
  const held: QueryRunner[] = [];
  for (let i = 0; i < 2; i += 1) {
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    held.push(runner);
  }
  // Both connections lent: a third caller waits for one.
  const third = db.dataSource.query('SELECT 1 AS one');
  expect(await waitFor(readings, (found) => found.pending === 1, { what: 'one caller waiting', timeoutMs: 5_000, intervalMs: 20 })).toEqual({
    used: 2,
    idle: 0,
    max: 2,
    pending: 1,
  });
  for (const runner of held) await runner.release();
  await expect(third).resolves.toEqual([{ one: 1 }]);
  expect(await readings()).toEqual({ used: 0, idle: 2, max: 2, pending: 0 });
});
