/**
 * The read model is versioned: every table of version N is named `<table>_v<N>`, and the
 * single-row `read_model_pointer` says which version serves. A rebuild fills version N+1 while
 * N keeps serving, then moves the pointer in one transaction (docs/adr/0005-history-projection.md).
 */
export const MAX_READ_MODEL_VERSION = 9_999;

export interface ReadModelTables {
  version: number;
  /** Everything known of each payment (a merge of its events), from which its entries derive. */
  facts: string;
  /** The history itself: one row per payment, refund and chargeback. */
  entries: string;
  /** Counts and sums per day and dimension, maintained with the entries (analysts' aggregates). */
  dailyTotals: string;
  /** A person's wallet as history needs it: country, apps, contact flags, preferred method. */
  wallets: string;
  /** Saved methods' display data and kind (the payment-method type of aggregates). */
  methods: string;
  /** Every posting of every ledger transaction, for per-account figures. */
  ledgerPostings: string;
}

export function assertVersion(version: number): number {
  if (!Number.isInteger(version) || version < 1 || version > MAX_READ_MODEL_VERSION) {
    throw new Error(`read model version must be a whole number from 1 to ${MAX_READ_MODEL_VERSION}, got ${version}`);
  }
  return version;
}

export function readModelTables(version: number): ReadModelTables {
  const suffix = `_v${assertVersion(version)}`;
  return {
    version,
    facts: `payment_facts${suffix}`,
    entries: `history_entries${suffix}`,
    dailyTotals: `daily_totals${suffix}`,
    wallets: `wallets${suffix}`,
    methods: `payment_methods${suffix}`,
    ledgerPostings: `ledger_postings${suffix}`,
  };
}

/**
 * The tables of one version with their primary keys only. A rebuild bulk-loads them first and
 * adds the secondary indexes at the end (`readModelIndexesSql`), which is several times faster.
 */
export function readModelTablesSql(version: number): string[] {
  const t = readModelTables(version);
  return [
    `CREATE TABLE IF NOT EXISTS ${t.facts} (
       payment_id  text PRIMARY KEY,
       facts       jsonb NOT NULL,
       method_id   text
     )`,
    `CREATE TABLE IF NOT EXISTS ${t.entries} (
       entry_id              text PRIMARY KEY,
       payment_id            text NOT NULL,
       kind                  text NOT NULL,
       status                text NOT NULL,
       payer_id              text NOT NULL,
       counterparty_type     text NOT NULL,
       counterparty_id       text NOT NULL,
       app                   text,
       country               text,
       currency              text NOT NULL,
       amount                bigint NOT NULL,
       net_amount            bigint NOT NULL,
       method_id             text,
       method_type           text NOT NULL,
       provider              text,
       ledger_transaction_id text,
       failure_code          text,
       occurred_at           timestamptz NOT NULL,
       updated_at            timestamptz NOT NULL
     )`,
    // Unknown dimensions are '' here (a primary key cannot hold NULL); the API shows them as null.
    `CREATE TABLE IF NOT EXISTS ${t.dailyTotals} (
       day          date   NOT NULL,
       app          text   NOT NULL,
       country      text   NOT NULL,
       currency     text   NOT NULL,
       kind         text   NOT NULL,
       method_type  text   NOT NULL,
       status       text   NOT NULL,
       entries      bigint NOT NULL,
       amount       bigint NOT NULL,
       net_amount   bigint NOT NULL,
       PRIMARY KEY (day, app, country, currency, kind, method_type, status)
     )`,
    `CREATE TABLE IF NOT EXISTS ${t.wallets} (
       person_id            text PRIMARY KEY,
       country              text,
       opened_at            timestamptz,
       apps                 text[] NOT NULL,
       apps_sequence        integer NOT NULL,
       has_email            boolean,
       has_phone            boolean,
       contact_sequence     integer NOT NULL,
       preferred_method_id  text,
       preferred_sequence   integer NOT NULL
     )`,
    `CREATE TABLE IF NOT EXISTS ${t.methods} (
       method_id     text PRIMARY KEY,
       person_id     text NOT NULL,
       kind          text,
       brand         text,
       last4         text,
       exp_month     integer,
       exp_year      integer,
       country       text,
       added_at      timestamptz,
       removed_at    timestamptz,
       unusable_reason text,
       unusable_since  timestamptz
     )`,
    `CREATE TABLE IF NOT EXISTS ${t.ledgerPostings} (
       transaction_id  text NOT NULL,
       posting_index   integer NOT NULL,
       position        bigint NOT NULL,
       kind            text NOT NULL,
       account_id      text NOT NULL,
       direction       text NOT NULL,
       layer           text NOT NULL,
       currency        text NOT NULL,
       amount          bigint NOT NULL,
       recorded_at     timestamptz NOT NULL,
       payment_id      text,
       owner_type      text,
       owner_id        text,
       PRIMARY KEY (transaction_id, posting_index)
     )`,
  ];
}

/**
 * Secondary indexes, each for a query of the API (EXPLAIN-checked in read-model.int-spec.ts):
 * - a person's history: their payments (payer) merged with what they received (counterparty),
 *   newest first, keyset-paginated on (occurred_at, entry_id);
 * - a merchant's or non-profit's history: the counterparty index;
 * - analysts' list of everything and aggregates over a time range: the time index;
 * - re-deriving a payment's entries, and payments of a method whose kind became known;
 * - a person's or business's ledger balance (their accounts' postings), and one account's.
 */
export function readModelIndexesSql(version: number): string[] {
  const t = readModelTables(version);
  return [
    `CREATE INDEX IF NOT EXISTS ${t.entries}_payer ON ${t.entries} (payer_id, occurred_at DESC, entry_id DESC)`,
    `CREATE INDEX IF NOT EXISTS ${t.entries}_counterparty ON ${t.entries} (counterparty_id, counterparty_type, occurred_at DESC, entry_id DESC)`,
    `CREATE INDEX IF NOT EXISTS ${t.entries}_time ON ${t.entries} (occurred_at DESC, entry_id DESC)`,
    `CREATE INDEX IF NOT EXISTS ${t.entries}_payment ON ${t.entries} (payment_id)`,
    `CREATE INDEX IF NOT EXISTS ${t.facts}_method ON ${t.facts} (method_id) WHERE method_id IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${t.ledgerPostings}_account ON ${t.ledgerPostings} (account_id)`,
    `CREATE INDEX IF NOT EXISTS ${t.ledgerPostings}_owner ON ${t.ledgerPostings} (owner_id, owner_type) WHERE owner_id IS NOT NULL`,
  ];
}

export function dropReadModelSql(version: number): string {
  const t = readModelTables(version);
  return `DROP TABLE IF EXISTS ${t.facts}, ${t.entries}, ${t.dailyTotals}, ${t.wallets}, ${t.methods}, ${t.ledgerPostings}`;
}

/** The tables that hold the read model's content, with the key that orders them (checksums, comparisons). */
export function readModelContent(version: number): Array<{ table: string; orderBy: string }> {
  const t = readModelTables(version);
  return [
    { table: t.facts, orderBy: 'payment_id' },
    { table: t.entries, orderBy: 'entry_id' },
    { table: t.dailyTotals, orderBy: 'day, app, country, currency, kind, method_type, status' },
    { table: t.wallets, orderBy: 'person_id' },
    { table: t.methods, orderBy: 'method_id' },
    { table: t.ledgerPostings, orderBy: 'transaction_id, posting_index' },
  ];
}
