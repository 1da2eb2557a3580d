import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops the outbox's UNIQUE (event_id) index in the ledger's schema: no statement reads the outbox
 * by event id (the relay reads by (tx_id, position), the writers only insert), and what it would
 * catch cannot happen here. The ledger's event id is a v5 UUID of the transaction id, which
 * journal_entries.transaction_id already keeps unique; the schema's other events get random v4
 * ids; and consumers deduplicate by event id in their inboxes in any case. Its cost was not small:
 * every group-committed entry inserted a random key into an index of a table that is never pruned
 * (paired runs of bench 64-transfer batches, 2026-12-06: PostgreSQL CPU per transfer -7 %).
 */
export class OutboxWithoutEventIdIndex1768730000000 implements MigrationInterface {
  name = 'OutboxWithoutEventIdIndex1768730000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_event_id_key');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE outbox ADD CONSTRAINT outbox_event_id_key UNIQUE (event_id)');
  }
}
