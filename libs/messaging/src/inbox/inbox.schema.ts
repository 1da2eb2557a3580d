/**
 * The inbox: the ids of events a consumer has applied, written in the same database
 * transaction as the effect. A redelivered event finds its id here and is skipped.
 */
export const INBOX_TABLE_SQL = `
CREATE TABLE inbox (
  consumer     text        NOT NULL,
  event_id     uuid        NOT NULL,
  topic        text        NOT NULL,
  kafka_partition integer  NOT NULL,
  kafka_offset bigint      NOT NULL,
  applied_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
`;

export const DROP_INBOX_TABLE_SQL = 'DROP TABLE IF EXISTS inbox;';
