import { DROP_OUTBOX_NOTIFY_SQL, OUTBOX_NOTIFY_SQL } from '@pay/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The outbox announces its commits, so the relay sleeps instead of polling (libs/messaging outbox-relay). */
export class OutboxNotify1766966400001 implements MigrationInterface {
  name = 'OutboxNotify1766966400001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(OUTBOX_NOTIFY_SQL);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(DROP_OUTBOX_NOTIFY_SQL);
  }
}
