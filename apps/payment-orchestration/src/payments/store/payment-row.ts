import type { Sql } from '../../database/sql';

/**
 * Records the provider's id of a payment as soon as a response names it, before any event does
 * (a `processing` answer moves nothing yet, but reconciliation must know what to ask about).
 */
export async function recordPspReference(sql: Sql, paymentId: string, provider: string, reference: string): Promise<void> {
  await sql.query('UPDATE payments SET provider = $2, reference = $3 WHERE payment_id = $1 AND reference IS NULL', [paymentId, provider, reference]);
}

export interface PaymentRow {
  payment_id: string;
  kind: string;
  status: string;
  provider: string | null;
  reference: string | null;
  pending_refunds: number;
  updated_at: Date;
  created_at: Date;
}

/** The payment a provider object belongs to, by the provider's id of it. */
export async function paymentIdByReference(sql: Sql, provider: string, reference: string): Promise<string | undefined> {
  const rows = await sql.query<{ payment_id: string }>('SELECT payment_id FROM payments WHERE provider = $1 AND reference = $2', [provider, reference]);
  return rows[0]?.payment_id;
}
