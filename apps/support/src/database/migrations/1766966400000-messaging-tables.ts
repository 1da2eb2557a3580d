import { INBOX_TABLE_SQL, OUTBOX_TABLE_SQL } from '@pay/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The inbox (exactly-once consumption) and the outbox (events published with the state change). */
export class MessagingTables1766966400000 implements MigrationInterface {
  name = 'MessagingTables1766966400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(INBOX_TABLE_SQL);
    await runner.query(OUTBOX_TABLE_SQL);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS outbox_checkpoint, outbox, inbox');
  }
}
