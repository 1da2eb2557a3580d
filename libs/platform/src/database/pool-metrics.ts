import { meter } from '@pay/observability';
import type { DataSource } from 'typeorm';

/** What pg's Pool tells of itself (node-postgres `Pool`: totalCount, idleCount, waitingCount, options.max). */
interface PgPoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly options?: { max?: number };
}

/** The pg pool under a TypeORM data source (its master pool), when it has one. */
function poolOf(dataSource: DataSource): PgPoolCounts | undefined {
  if (!dataSource.isInitialized) return undefined;
  const pool = (dataSource.driver as unknown as { master?: PgPoolCounts }).master;
  return pool && typeof pool.waitingCount === 'number' ? pool : undefined;
}

const observed = new Map<string, DataSource>();
let registered = false;

/**
 * Exports the connection pool of the service's data source as OpenTelemetry's database-client
 * metrics, read when Prometheus scrapes (nothing runs in between): `db.client.connection.count`
 * by state (`used`, `idle`), `db.client.connection.max`, and `db.client.connection.pending_requests`
 * — callers waiting for a connection, the first sign that the pool, not PostgreSQL, sets the pace
 * (an outbox relay or a lease renewal waiting behind the step worker; docs/operations.md).
 */
export function observeConnectionPool(dataSource: DataSource, poolName: string): void {
  observed.set(poolName, dataSource);
  if (registered) return;
  registered = true;
  const counts = meter().createObservableGauge('db.client.connection.count', {
    description: 'Connections of the pool, by state (used: lent to a caller; idle: open, waiting in the pool)',
  });
  const max = meter().createObservableGauge('db.client.connection.max', { description: 'The most connections the pool may open' });
  const pending = meter().createObservableGauge('db.client.connection.pending_requests', {
    description: 'Callers waiting for a connection from the pool (0 while the pool keeps up)',
  });
  meter().addBatchObservableCallback(
    (result) => {
      for (const [name, source] of observed) {
        const pool = poolOf(source);
        if (!pool) continue;
        const attributes = { 'db.client.connection.pool.name': name };
        result.observe(counts, pool.totalCount - pool.idleCount, { ...attributes, 'db.client.connection.state': 'used' });
        result.observe(counts, pool.idleCount, { ...attributes, 'db.client.connection.state': 'idle' });
        if (pool.options?.max !== undefined) result.observe(max, pool.options.max, attributes);
        result.observe(pending, pool.waitingCount, attributes);
      }
    },
    [counts, max, pending],
  );
}
