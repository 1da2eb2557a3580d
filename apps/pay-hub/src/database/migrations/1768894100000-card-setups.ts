import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The SetupIntents the hub opened for a card and not yet settled (saved to the wallet, or cancelled
 * at the PSP): what the sweep cancels when nobody finished one (docs/pay-hub.md, "Abandoned card
 * setups"). The PSP holds the card, the customer and the person's id in its metadata; this keeps the
 * id, whose person it is and when it was opened, nothing of the card. A row is deleted once settled.
 */
export class CardSetups1768894100000 implements MigrationInterface {
  name = 'CardSetups1768894100000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE card_setups (
        setup_intent_id text PRIMARY KEY CHECK (setup_intent_id ~ '^seti_[A-Za-z0-9]{1,64}$'),
        subject text NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await runner.query('CREATE INDEX card_setups_age ON card_setups (created_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE card_setups');
  }
}
