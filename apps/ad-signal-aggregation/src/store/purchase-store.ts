import type { Sql } from '@pay/platform';

/** What the initiation tells of a merchant purchase: its app, country, category and method. */
export interface PaymentContextRow {
  paymentKey: string;
  app: string;
  country: string;
  merchantCategory: string;
  methodId: string | null;
}

/** A captured merchant purchase, as stored (with its initiation's context). */
export interface PurchaseRow {
  paymentKey: string;
  personKey: string;
  merchantId: string;
  occurredAt: string;
  hourStart: string;
  dayStart: string;
  app: string;
  country: string;
  merchantCategory: string;
  provider: string;
  methodId: string | null;
  amountBucket: string;
  amount: string;
  currency: string;
  status: 'pending' | 'late';
}

/** Records initiations' contexts, all in one statement (a context recorded already stays as it was). */
export async function insertContexts(sql: Sql, rows: readonly PaymentContextRow[]): Promise<void> {
  await sql.query(
    `INSERT INTO payment_contexts (payment_key, app, country, merchant_category, method_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
     ON CONFLICT (payment_key) DO NOTHING`,
    [rows.map((r) => r.paymentKey), rows.map((r) => r.app), rows.map((r) => r.country), rows.map((r) => r.merchantCategory), rows.map((r) => r.methodId)],
  );
}

/** The contexts recorded for these payments, by payment key (a payment without one is absent). */
export async function contextsOf(sql: Sql, paymentKeys: readonly string[]): Promise<Map<string, PaymentContextRow>> {
  const rows = await sql.query<{ payment_key: string; app: string; country: string; merchant_category: string; method_id: string | null }>(
    'SELECT payment_key, app, country, merchant_category, method_id FROM payment_contexts WHERE payment_key = ANY($1::text[])',
    [paymentKeys],
  );
  return new Map(
    rows.map((row) => [
      row.payment_key,
      { paymentKey: row.payment_key, app: row.app, country: row.country, merchantCategory: row.merchant_category, methodId: row.method_id },
    ]),
  );
}

/** Stores purchases in one statement; answers the keys stored now (a purchase stored before is left as it was). */
export async function insertPurchases(sql: Sql, rows: readonly PurchaseRow[]): Promise<Set<string>> {
  const column = <K extends keyof PurchaseRow>(key: K): PurchaseRow[K][] => rows.map((row) => row[key]);
  const inserted = await sql.query<{ payment_key: string }>(
    `INSERT INTO purchases (payment_key, person_key, merchant_id, occurred_at, hour_start, day_start, app, country, merchant_category,
                            provider, method_id, amount_bucket, amount, currency, status)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[],
                          $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::text[], $15::text[])
     ON CONFLICT (payment_key) DO NOTHING RETURNING payment_key`,
    [
      column('paymentKey'),
      column('personKey'),
      column('merchantId'),
      column('occurredAt'),
      column('hourStart'),
      column('dayStart'),
      column('app'),
      column('country'),
      column('merchantCategory'),
      column('provider'),
      column('methodId'),
      column('amountBucket'),
      column('amount'),
      column('currency'),
      column('status'),
    ],
  );
  return new Set(inserted.map((row) => row.payment_key));
}
