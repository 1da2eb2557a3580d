import { randomBytes, randomUUID } from 'node:crypto';
import type { Sql } from '@pay/sql';
import { KEY_BYTES } from './aead';
import type { KeyWrapper } from './master-key-ring';

/**
 * One data key per owner (a person): their secrets are sealed with it, and it is stored only
 * wrapped by a master key. Rotating master keys re-wraps these rows and touches no ciphertext;
 * deleting an owner's row makes all their secrets unreadable at once (crypto-shredding).
 */
export const DATA_KEYS_TABLE_SQL = `
CREATE TABLE data_keys (
  id            uuid        PRIMARY KEY,
  owner_id      text        NOT NULL UNIQUE,
  master_key_id text        NOT NULL,
  wrapped_key   bytea       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  rewrapped_at  timestamptz
);
CREATE INDEX data_keys_master_key ON data_keys (master_key_id);
`;

export interface DataKey {
  id: string;
  key: Buffer;
}

/** A data_keys row as stored: the key wrapped by a master key. */
export interface DataKeyRow {
  id: string;
  master_key_id: string;
  wrapped_key: Buffer;
}

export class DataKeyStore {
  constructor(private readonly wrapper: KeyWrapper) {}

  /** The owner's data key, created on first use. Call inside the transaction that writes the secret. */
  async forOwner(sql: Sql, ownerId: string): Promise<DataKey> {
    const existing = await sql.query<DataKeyRow>('SELECT id, master_key_id, wrapped_key FROM data_keys WHERE owner_id = $1', [ownerId]);
    if (existing[0]) return this.unwrap(existing[0]);
    const id = randomUUID();
    const key = randomBytes(KEY_BYTES);
    const wrapped = await this.wrapper.wrap(id, key);
    const inserted = await sql.query<{ id: string }>(
      `INSERT INTO data_keys (id, owner_id, master_key_id, wrapped_key) VALUES ($1, $2, $3, $4)
       ON CONFLICT (owner_id) DO NOTHING RETURNING id`,
      [id, ownerId, wrapped.masterKeyId, wrapped.wrapped],
    );
    if (inserted.length > 0) return { id, key };
    // Another transaction created it first: use theirs.
    return this.forOwner(sql, ownerId);
  }

  async byId(sql: Sql, id: string): Promise<DataKey> {
    const rows = await sql.query<DataKeyRow>('SELECT id, master_key_id, wrapped_key FROM data_keys WHERE id = $1', [id]);
    if (!rows[0]) throw new Error(`data key ${id} does not exist (destroyed or never created)`);
    return this.unwrap(rows[0]);
  }

  /** Unwraps a row the caller read itself (e.g. joined into the statement that needed the key). */
  async unwrap(row: DataKeyRow): Promise<DataKey> {
    return { id: row.id, key: await this.wrapper.unwrap(row.id, { masterKeyId: row.master_key_id, wrapped: row.wrapped_key }) };
  }
}
