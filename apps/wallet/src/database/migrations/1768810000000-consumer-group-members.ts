import { CONSUMER_GROUP_MEMBERS_TABLE_SQL, DROP_CONSUMER_GROUP_MEMBERS_TABLE_SQL } from '@pay/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The member id of each consumer group per instance, so that a restarted process rejoins as its predecessor (ADR 0015). */
export class ConsumerGroupMembers1768810000000 implements MigrationInterface {
  name = 'ConsumerGroupMembers1768810000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(CONSUMER_GROUP_MEMBERS_TABLE_SQL);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(DROP_CONSUMER_GROUP_MEMBERS_TABLE_SQL);
  }
}
