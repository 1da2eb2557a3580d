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
