import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit of instrument releases is append-only, as the ledger's journal is: UPDATE, DELETE and
 * TRUNCATE on `instrument_releases` fail, even for the table's owner (statement-level, so an
 * UPDATE matching no row is refused too). Someone who takes over the wallet's database role can
 * no longer erase who was given which instrument; a superuser can still disable the trigger.
 */
export class InstrumentReleasesAppendOnly1767500000000 implements MigrationInterface {
  name = 'InstrumentReleasesAppendOnly1767500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE FUNCTION instrument_releases_refuse_mutation() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION 'instrument_releases is an append-only audit: % is not allowed', TG_OP
          USING HINT = 'the audit of instrument releases is never changed; record what happened as a new row';
      END
      $fn$;
      CREATE TRIGGER instrument_releases_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON instrument_releases
        FOR EACH STATEMENT EXECUTE FUNCTION instrument_releases_refuse_mutation();
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP TRIGGER instrument_releases_append_only ON instrument_releases;
      DROP FUNCTION instrument_releases_refuse_mutation();
    `);
  }
}
