import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Conversations and their messages (numbered 1, 2, 3 … per conversation; each party's delivered
 * and read positions are the receipts), agents' actions, and what the service learns from the
 * events it consumes: each payment's timeline and facts (for refund limits), each person's
 * wallet country. Nothing here is read by another service.
 */
export class SupportChat1766966400002 implements MigrationInterface {
  name = 'SupportChat1766966400002';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE conversations (
        id uuid PRIMARY KEY,
        person_id text NOT NULL,
        country char(2) NOT NULL,
        app text NOT NULL,
        payment_id text,
        status text NOT NULL CHECK (status IN ('queued', 'claimed', 'closed')),
        agent_id text,
        opened_at timestamptz NOT NULL DEFAULT now(),
        claimed_at timestamptz,
        closed_at timestamptz,
        close_reason text,
        last_seq integer NOT NULL DEFAULT 0,
        events integer NOT NULL DEFAULT 0,
        person_delivered_seq integer NOT NULL DEFAULT 0,
        person_read_seq integer NOT NULL DEFAULT 0,
        agent_delivered_seq integer NOT NULL DEFAULT 0,
        agent_read_seq integer NOT NULL DEFAULT 0
      )`);
    await runner.query(`CREATE INDEX conversations_queue ON conversations (country, opened_at) WHERE status = 'queued'`);
    await runner.query(`CREATE INDEX conversations_person ON conversations (person_id, opened_at)`);
    await runner.query(`CREATE INDEX conversations_agent ON conversations (agent_id) WHERE status = 'claimed'`);
    await runner.query(`CREATE INDEX conversations_closed ON conversations (closed_at) WHERE status = 'closed'`);
    await runner.query(`
      CREATE TABLE messages (
        conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        id uuid NOT NULL UNIQUE,
        client_message_id uuid NOT NULL,
        author_role text NOT NULL CHECK (author_role IN ('person', 'agent')),
        author_id text NOT NULL,
        body text NOT NULL,
        masked text[] NOT NULL DEFAULT '{}',
        sent_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (conversation_id, seq),
        UNIQUE (conversation_id, author_id, client_message_id)
      )`);
    await runner.query(`
      CREATE TABLE agent_actions (
        id bigserial PRIMARY KEY,
        conversation_id uuid REFERENCES conversations (id) ON DELETE SET NULL,
        agent_id text NOT NULL,
        action text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`CREATE INDEX agent_actions_conversation ON agent_actions (conversation_id)`);
    await runner.query(`
      CREATE TABLE payments (
        payment_id text PRIMARY KEY,
        payer_id text,
        currency char(3),
        captured bigint NOT NULL DEFAULT 0,
        refund_requested bigint NOT NULL DEFAULT 0,
        refund_failed bigint NOT NULL DEFAULT 0,
        refunded bigint NOT NULL DEFAULT 0,
        status text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE payment_timeline (
        event_id uuid PRIMARY KEY,
        payment_id text NOT NULL,
        stage text NOT NULL,
        type text NOT NULL,
        occurred_at timestamptz NOT NULL,
        details jsonb NOT NULL
      )`);
    await runner.query(`CREATE INDEX payment_timeline_payment ON payment_timeline (payment_id, occurred_at, event_id)`);
    await runner.query(`CREATE TABLE persons (person_id text PRIMARY KEY, country char(2) NOT NULL)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS persons, payment_timeline, payments, agent_actions, messages, conversations');
  }
}
