import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Passkeys (WebAuthn) for biometric step-up: each person's credentials (public key, signature
 * counter, transports, device name), the opaque user handle their authenticators hold instead of
 * the person id, and the ceremonies' challenges, kept server-side until used once or expired.
 * A removed passkey's row is deleted: nothing can verify against it afterwards.
 */
export class Passkeys1765497600000 implements MigrationInterface {
  name = 'Passkeys1765497600000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE passkey_user_handles (
        person_id   text PRIMARY KEY REFERENCES wallets (person_id),
        user_handle text NOT NULL UNIQUE CHECK (user_handle ~ '^[A-Za-z0-9_-]{16,128}$')
      );
      CREATE TABLE passkey_credentials (
        passkey_id    uuid        PRIMARY KEY,
        person_id     text        NOT NULL REFERENCES wallets (person_id),
        -- One credential belongs to one person, whoever tries to register it again.
        credential_id text        NOT NULL UNIQUE CHECK (credential_id ~ '^[A-Za-z0-9_-]+$' AND length(credential_id) <= 1400),
        public_key    bytea       NOT NULL,
        counter       bigint      NOT NULL CHECK (counter >= 0),
        transports    text[]      NOT NULL DEFAULT '{}',
        device_name   text        NOT NULL,
        device_type   text        NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
        backed_up     boolean     NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        last_used_at  timestamptz
      );
      CREATE INDEX passkey_credentials_person ON passkey_credentials (person_id, created_at);
      CREATE TABLE webauthn_challenges (
        challenge        text        PRIMARY KEY,
        person_id        text        NOT NULL REFERENCES wallets (person_id),
        ceremony         text        NOT NULL CHECK (ceremony IN ('registration', 'step-up')),
        -- A step-up challenge is bound to the payment it confirms: its ceiling.
        ceiling_amount   bigint      CHECK (ceiling_amount > 0),
        ceiling_currency char(3),
        expires_at       timestamptz NOT NULL,
        CHECK ((ceremony = 'step-up') = (ceiling_amount IS NOT NULL AND ceiling_currency IS NOT NULL))
      );
      CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS webauthn_challenges; DROP TABLE IF EXISTS passkey_credentials; DROP TABLE IF EXISTS passkey_user_handles');
  }
}
