import { DATA_KEYS_TABLE_SQL } from '@pay/encryption';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a person sets in "Pay": the wallet (country, apps, preferred method, consent, sealed
 * contact details, the per-person event counter), payment methods (display data in clear,
 * secrets sealed), the PIN (sealed argon2id hash and lockout state), and the data keys that
 * seal all of it. Secret columns hold `v1.<data key id>.<ciphertext>`, never clear text.
 */
export class WalletSettings1764230400000 implements MigrationInterface {
  name = 'WalletSettings1764230400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(DATA_KEYS_TABLE_SQL);
    await runner.query(`
      CREATE TABLE wallets (
        person_id              text        PRIMARY KEY,
        country                char(2)     NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
        apps                   text[]      NOT NULL DEFAULT '{}',
        preferred_method_id    uuid,
        ad_measurement_consent boolean     NOT NULL,
        consent_source         text        NOT NULL CHECK (consent_source IN ('default', 'person')),
        consent_updated_at     timestamptz NOT NULL DEFAULT now(),
        contact_email          text        CHECK (contact_email LIKE 'v1.%'),
        contact_phone          text        CHECK (contact_phone LIKE 'v1.%'),
        event_sequence         bigint      NOT NULL DEFAULT 0,
        created_at             timestamptz NOT NULL DEFAULT now(),
        updated_at             timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE payment_methods (
        id         uuid        PRIMARY KEY,
        person_id  text        NOT NULL REFERENCES wallets (person_id),
        kind       text        NOT NULL CHECK (kind IN ('card', 'paypal', 'bank_account', 'stripe_customer')),
        label      text        NOT NULL,
        display    jsonb       NOT NULL,
        -- Sealed JSON of what may pay (PSP token, IBAN, …); wiped when the method is removed.
        secret     text        CHECK (secret LIKE 'v1.%'),
        status     text        NOT NULL CHECK (status IN ('active', 'removed')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        removed_at timestamptz,
        UNIQUE (id, person_id),
        CHECK ((status = 'active') = (removed_at IS NULL)),
        CHECK (status = 'removed' OR secret IS NOT NULL)
      );
      CREATE INDEX payment_methods_person ON payment_methods (person_id, created_at);
      -- The preferred method is one of the person's own.
      ALTER TABLE wallets ADD CONSTRAINT wallets_preferred_method
        FOREIGN KEY (preferred_method_id, person_id) REFERENCES payment_methods (id, person_id);
      CREATE TABLE pin_credentials (
        person_id       text        PRIMARY KEY REFERENCES wallets (person_id),
        pin_hash        text        NOT NULL CHECK (pin_hash LIKE 'v1.%'),
        failed_attempts integer     NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
        locked_until    timestamptz,
        set_at          timestamptz NOT NULL DEFAULT now(),
        changed_at      timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS pin_credentials, payment_methods, wallets, data_keys CASCADE');
  }
}
