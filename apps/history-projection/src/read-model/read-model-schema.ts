/**
 * Tables that outlive read model versions: every consumed event as it arrived (the rebuild's
 * source), the versions with their rebuild checkpoints, and the pointer to the live one.
 */
export const RAW_EVENTS_TABLE_SQL = `
CREATE TABLE raw_events (
  position         bigserial   PRIMARY KEY,
  -- The writing transaction: readers take rows in (tx_id, position) order, and only of
  -- transactions older than every one still running, so a late commit is never skipped.
  tx_id            xid8        NOT NULL DEFAULT pg_current_xact_id(),
  event_id         uuid        NOT NULL UNIQUE,
  topic            text        NOT NULL,
  kafka_partition  integer     NOT NULL,
  kafka_offset     bigint      NOT NULL,
  type             text        NOT NULL,
  occurred_at      timestamptz NOT NULL,
  envelope         jsonb       NOT NULL,
  stored_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX raw_events_replay ON raw_events (tx_id, position);
CREATE INDEX raw_events_partition_offset ON raw_events (topic, kafka_partition, kafka_offset DESC);
`;

export const READ_MODEL_VERSIONS_SQL = `
CREATE TABLE read_model_versions (
  version              integer     PRIMARY KEY CHECK (version BETWEEN 1 AND 9999),
  state                text        NOT NULL CHECK (state IN ('building', 'live', 'retired')),
  checkpoint_tx        xid8,
  checkpoint_position  bigint,
  events_applied       bigint      NOT NULL DEFAULT 0,
  indexed              boolean     NOT NULL DEFAULT false,
  started_at           timestamptz NOT NULL DEFAULT now(),
  live_since           timestamptz,
  retired_at           timestamptz
);
CREATE UNIQUE INDEX read_model_versions_one_live ON read_model_versions ((true)) WHERE state = 'live';
CREATE UNIQUE INDEX read_model_versions_one_building ON read_model_versions ((true)) WHERE state = 'building';

-- One row. The live consumer reads it FOR SHARE in every transaction; the switch takes it FOR
-- UPDATE, so no event is projected into the old version after the new one went live.
CREATE TABLE read_model_pointer (
  singleton     boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  live_version  integer     NOT NULL REFERENCES read_model_versions (version),
  switched_at   timestamptz NOT NULL DEFAULT now()
);
`;
