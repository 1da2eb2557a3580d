import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The hub's sessions and the OpenID Connect sign-ins waiting for their callback, shared by every
 * replica (docs/adr/0010-pay-hub-sessions.md). Rows are found by the SHA-256 of the cookie's id
 * (or of `state`), and what they keep secret is sealed with a key derived from that id: the table
 * alone neither signs anyone in nor yields an access token.
 */
export class HubSessions1767398400000 implements MigrationInterface {
  name = 'HubSessions1767398400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE sessions (
        id_hash bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
        subject text NOT NULL,
        role text NOT NULL CHECK (role IN ('person', 'analyst')),
        sealed_access_token bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await runner.query(`CREATE INDEX sessions_expiry ON sessions (expires_at)`);
    await runner.query(`
      CREATE TABLE pending_sign_ins (
        state_hash bytea PRIMARY KEY CHECK (octet_length(state_hash) = 32),
        sealed_code_verifier bytea NOT NULL,
        nonce text NOT NULL,
        return_to text NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    await runner.query(`CREATE INDEX pending_sign_ins_expiry ON pending_sign_ins (expires_at)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE pending_sign_ins');
    await runner.query('DROP TABLE sessions');
  }
}
