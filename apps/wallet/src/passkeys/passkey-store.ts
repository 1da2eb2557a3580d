import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Sql } from '@pay/platform';
import { sqlOfPool } from '@pay/platform';
import type { PasskeyView } from './passkey.dto';

export interface PasskeyRow {
  passkey_id: string;
  person_id: string;
  credential_id: string;
  public_key: Buffer;
  counter: string;
  transports: string[];
  device_name: string;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  created_at: Date;
  last_used_at: Date | null;
}

export interface NewPasskey {
  passkeyId: string;
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  deviceName: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
}

export function passkeyView(row: PasskeyRow): PasskeyView {
  return {
    passkeyId: row.passkey_id,
    deviceName: row.device_name,
    transports: row.transports,
    backedUp: row.backed_up,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}

/**
 * Each person's passkeys. Changes run inside a wallet change (the person's lock), so a removal
 * and an assertion of the same passkey are ordered: after the removal commits, nothing verifies.
 */
@Injectable()
export class PasskeyStore {
  private readonly pool: Sql;

  constructor(dataSource: DataSource) {
    this.pool = sqlOfPool(dataSource);
  }

  async list(personId: string, sql: Sql = this.pool): Promise<PasskeyView[]> {
    return (await this.rows(personId, sql)).map(passkeyView);
  }

  async rows(personId: string, sql: Sql = this.pool): Promise<PasskeyRow[]> {
    return sql.query<PasskeyRow>('SELECT * FROM passkey_credentials WHERE person_id = $1 ORDER BY created_at, passkey_id', [personId]);
  }

  /** The person's passkey with this credential id; another person's or a removed one is absent. */
  async byCredential(sql: Sql, personId: string, credentialId: string): Promise<PasskeyRow | undefined> {
    const rows: PasskeyRow[] = await sql.query('SELECT * FROM passkey_credentials WHERE person_id = $1 AND credential_id = $2', [personId, credentialId]);
    return rows[0];
  }

  /**
   * Stores a passkey; undefined when its credential is registered already (to anyone). A
   * registration of the same credential still in flight in another transaction is waited for, so
   * of two at once one is stored and the other is told, never a unique violation.
   */
  async insert(sql: Sql, personId: string, passkey: NewPasskey): Promise<PasskeyRow | undefined> {
    const rows: PasskeyRow[] = await sql.query(
      `INSERT INTO passkey_credentials (passkey_id, person_id, credential_id, public_key, counter, transports, device_name, device_type, backed_up)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (credential_id) DO NOTHING
       RETURNING *`,
      [
        passkey.passkeyId,
        personId,
        passkey.credentialId,
        Buffer.from(passkey.publicKey),
        passkey.counter,
        passkey.transports,
        passkey.deviceName,
        passkey.deviceType,
        passkey.backedUp,
      ],
    );
    return rows[0];
  }

  /** Records a verified use; the counter only moves forward (the caller checked it under the person's lock). */
  async recordUse(sql: Sql, passkeyId: string, counter: number, backedUp: boolean, now: Date): Promise<void> {
    await sql.query('UPDATE passkey_credentials SET counter = GREATEST(counter, $2), backed_up = $3, last_used_at = $4 WHERE passkey_id = $1', [
      passkeyId,
      counter,
      backedUp,
      now,
    ]);
  }

  /** Deletes the person's passkey; false when they have none with that id. */
  async remove(sql: Sql, personId: string, passkeyId: string): Promise<boolean> {
    const rows = await sql.query('DELETE FROM passkey_credentials WHERE person_id = $1 AND passkey_id = $2 RETURNING passkey_id', [personId, passkeyId]);
    return rows.length > 0;
  }

  /** The opaque handle the person's authenticators hold (never the person id), created on first use. */
  async userHandle(sql: Sql, personId: string, fresh: () => string): Promise<string> {
    await sql.query('INSERT INTO passkey_user_handles (person_id, user_handle) VALUES ($1, $2) ON CONFLICT (person_id) DO NOTHING', [personId, fresh()]);
    const rows: { user_handle: string }[] = await sql.query('SELECT user_handle FROM passkey_user_handles WHERE person_id = $1', [personId]);
    return rows[0].user_handle;
  }
}
