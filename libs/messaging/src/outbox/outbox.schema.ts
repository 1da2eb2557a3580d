import { createHash } from 'node:crypto';

/**
 * The transactional outbox. A service writes its outgoing events here in the same database
 * transaction as the state change they describe; the relay (outbox-relay.ts) publishes them.
 *
 * `tx_id` is the writing transaction's id (xid8). The relay reads only rows whose transaction
 * is older than every transaction still running (`pg_snapshot_xmin`), ordered by
 * (tx_id, position): a row that commits late, after a higher position was already visible,
 * is therefore never skipped (a bare `position > last_seen` loses it).
 */
export const OUTBOX_TABLE_SQL = `
CREATE TABLE outbox (
  position   bigserial   PRIMARY KEY,
  tx_id      xid8        NOT NULL DEFAULT pg_current_xact_id(),
  topic      text        NOT NULL,
  message_key text       NOT NULL,
  event_id   uuid        NOT NULL UNIQUE,
  payload    jsonb       NOT NULL,
  headers    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_tx_position ON outbox (tx_id, position);
CREATE TABLE outbox_checkpoint (
  relay      text   PRIMARY KEY,
  tx_id      xid8   NOT NULL,
  position   bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`;

export const DROP_OUTBOX_TABLE_SQL = 'DROP TABLE IF EXISTS outbox_checkpoint; DROP TABLE IF EXISTS outbox;';

/**
 * The NOTIFY channel of a schema's outbox. Channels are per database, so each schema (service,
 * test) has its own; a name longer than PostgreSQL's 63-byte limit is hashed. Keep in step
 * with `outbox_notify()` below.
 */
export function outboxChannel(schema: string): string {
  return `outbox_${schema.length <= 56 ? schema : createHash('md5').update(schema).digest('hex')}`;
}

/**
 * Announces committed outbox rows to the relay: one NOTIFY per inserting statement, delivered
 * at commit (never for a rolled-back write) and folded into one per transaction by PostgreSQL.
 * Writers pay no round trip for it; the relay sleeps between announcements instead of polling.
 */
export const OUTBOX_NOTIFY_SQL = `
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_' || CASE WHEN length(TG_TABLE_SCHEMA) <= 56 THEN TG_TABLE_SCHEMA ELSE md5(TG_TABLE_SCHEMA) END, '');
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS outbox_notify ON outbox;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
`;

export const DROP_OUTBOX_NOTIFY_SQL = 'DROP TRIGGER IF EXISTS outbox_notify ON outbox; DROP FUNCTION IF EXISTS outbox_notify();';
