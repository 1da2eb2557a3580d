import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The aggregation's private state. People and payments appear only as keyed pseudonyms
 * (HMAC, key in config); nothing here is published except `window_cells.aggregate`, the data of
 * the events already sent. Purchase facts are kept until their day closed plus the retention.
 */
export class AdSignalTables1764403200000 implements MigrationInterface {
  name = 'AdSignalTables1764403200000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      -- The latest event time seen per input partition: the watermark is their maximum minus the grace period.
      CREATE TABLE input_watermarks (
        topic           text        NOT NULL,
        kafka_partition integer     NOT NULL,
        latest_event_at timestamptz NOT NULL,
        PRIMARY KEY (topic, kafka_partition)
      );

      -- What a payment's initiation says about it (app, country), awaited by its capture.
      CREATE TABLE payment_contexts (
        payment_key       text        PRIMARY KEY,
        app               text        NOT NULL,
        country           text        NOT NULL,
        merchant_category text        NOT NULL,
        method_id         text,
        recorded_at       timestamptz NOT NULL DEFAULT now()
      );

      -- The kind of each saved payment method (from wallet events), to type a purchase's method.
      CREATE TABLE payment_method_kinds (
        method_id text PRIMARY KEY,
        kind      text NOT NULL
      );

      -- Every ad-measurement consent change of every person: the timeline a purchase is judged by.
      CREATE TABLE consent_changes (
        person_key  text        NOT NULL,
        occurred_at timestamptz NOT NULL,
        sequence    integer     NOT NULL,
        granted     boolean     NOT NULL,
        event_id    uuid        NOT NULL UNIQUE,
        PRIMARY KEY (person_key, occurred_at, sequence, event_id)
      );

      -- Captured purchases. Decided once when their hour closes; the day reuses the decision.
      CREATE TABLE purchases (
        payment_key         text        PRIMARY KEY,
        person_key          text        NOT NULL,
        merchant_id         text        NOT NULL,
        occurred_at         timestamptz NOT NULL,
        hour_start          timestamptz NOT NULL,
        day_start           timestamptz NOT NULL,
        app                 text        NOT NULL,
        country             text        NOT NULL,
        merchant_category   text        NOT NULL,
        provider            text        NOT NULL,
        method_id           text,
        payment_method_type text,
        amount_bucket       text        NOT NULL,
        amount              bigint      NOT NULL CHECK (amount > 0),
        currency            char(3)     NOT NULL,
        status              text        NOT NULL CHECK (status IN ('pending', 'counted', 'no_consent', 'over_limit', 'refunded', 'late')),
        counted_amount      bigint      CHECK (counted_amount >= 0),
        recorded_at         timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX purchases_pending_hour ON purchases (hour_start) WHERE status = 'pending';
      CREATE INDEX purchases_day ON purchases (day_start, status);
      CREATE INDEX purchases_person ON purchases (person_key, occurred_at);

      -- Refunds of known purchases: applied if they arrive before the purchase's hour closes.
      CREATE TABLE refunds (
        refund_key  text        PRIMARY KEY,
        payment_key text        NOT NULL REFERENCES purchases (payment_key) ON DELETE CASCADE,
        amount      bigint      NOT NULL CHECK (amount > 0),
        currency    char(3)     NOT NULL,
        full_refund boolean     NOT NULL,
        occurred_at timestamptz NOT NULL,
        status      text        NOT NULL CHECK (status IN ('pending', 'applied', 'late'))
      );
      CREATE INDEX refunds_payment ON refunds (payment_key);

      CREATE TABLE closed_windows (
        granularity      text        NOT NULL CHECK (granularity IN ('hour', 'day')),
        window_start     timestamptz NOT NULL,
        watermark        timestamptz NOT NULL,
        cells_published  integer     NOT NULL,
        cells_suppressed integer     NOT NULL,
        closed_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (granularity, window_start)
      );

      -- Every cell of every closed window. A suppressed cell keeps only why (its values are not kept):
      -- the day needs to know which of its hours' cells were hidden.
      CREATE TABLE window_cells (
        granularity    text        NOT NULL CHECK (granularity IN ('hour', 'day')),
        window_start   timestamptz NOT NULL,
        merchant_id    text        NOT NULL,
        dimensions_key text        NOT NULL,
        cell_id        uuid        NOT NULL UNIQUE,
        status         text        NOT NULL CHECK (status IN ('published', 'suppressed')),
        reason         text        CHECK (reason IN ('below_k', 'complementary')),
        aggregate      jsonb,
        PRIMARY KEY (granularity, window_start, merchant_id, dimensions_key),
        CHECK ((status = 'published') = (aggregate IS NOT NULL))
      );
      CREATE INDEX window_cells_published ON window_cells (merchant_id, granularity, window_start) WHERE status = 'published';

      -- Events that came after their window closed: counted here, never silently dropped.
      CREATE TABLE late_event_corrections (
        window_start     timestamptz NOT NULL,
        merchant_id      text        NOT NULL,
        kind             text        NOT NULL CHECK (kind IN ('late_purchase', 'late_refund', 'unmatched_refund', 'late_consent')),
        currency         text        NOT NULL,
        events           integer     NOT NULL,
        amount           bigint      NOT NULL,
        first_recorded_at timestamptz NOT NULL DEFAULT now(),
        last_recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (window_start, merchant_id, kind, currency)
      );

      -- Differential privacy: what each advertiser has spent, and on which windows.
      CREATE TABLE advertiser_budgets (
        advertiser text    PRIMARY KEY,
        spent      numeric NOT NULL DEFAULT 0 CHECK (spent >= 0)
      );
      CREATE TABLE advertiser_budget_charges (
        advertiser   text        NOT NULL REFERENCES advertiser_budgets (advertiser),
        granularity  text        NOT NULL,
        window_start timestamptz NOT NULL,
        merchant_id  text        NOT NULL,
        epsilon      numeric     NOT NULL CHECK (epsilon > 0),
        charged_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (advertiser, granularity, window_start, merchant_id)
      );
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE IF EXISTS advertiser_budget_charges, advertiser_budgets, late_event_corrections, window_cells, closed_windows,
      refunds, purchases, consent_changes, payment_method_kinds, payment_contexts, input_watermarks`);
  }
}
