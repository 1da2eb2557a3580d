import type { NamedStatement, Sql } from '../database/sql';
import { queryNamed } from '../database/sql';

const LOCK: NamedStatement = { name: 'po_idempotency_lock', text: 'SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))' };
const SAVE: NamedStatement = {
  name: 'po_idempotency_save',
  text: 'INSERT INTO idempotency_keys (scope, key, request_hash, resource_id, response_status, response_body) VALUES ($1, $2, $3, $4, $5, $6::jsonb)',
};

export interface IdempotencyRecord {
  readonly scope: string;
  readonly key: string;
  readonly requestHash: string;
  /** What the key created (a payment id, a refund id). */
  readonly resourceId: string;
  readonly responseStatus: number;
  readonly responseBody: Record<string, unknown>;
}

interface Row {
  request_hash: string;
  resource_id: string;
  response_status: number;
  response_body: Record<string, unknown>;
}

/**
 * The `idempotency_keys` table: the first answer to a key, with the hash of the request that got
 * it. A caller takes the key's lock first (held to the end of its transaction), so of fifty
 * concurrent requests with one key exactly one decides and the others wait, then replay its answer.
 */
export const idempotencyKeys = {
  async lock(sql: Sql, scope: string, key: string): Promise<void> {
    // Transaction-scoped: released on commit or rollback, whatever happens in between.
    await queryNamed(sql, LOCK, [scope, key]);
  },

  async find(sql: Sql, scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    const [row] = await sql.query<Row>('SELECT request_hash, resource_id, response_status, response_body FROM idempotency_keys WHERE scope = $1 AND key = $2', [
      scope,
      key,
    ]);
    return row
      ? { scope, key, requestHash: row.request_hash, resourceId: row.resource_id, responseStatus: row.response_status, responseBody: row.response_body }
      : undefined;
  },

  async save(sql: Sql, record: IdempotencyRecord): Promise<void> {
    await queryNamed(sql, SAVE, [record.scope, record.key, record.requestHash, record.resourceId, record.responseStatus, JSON.stringify(record.responseBody)]);
  },
};
