import type { PaymentState } from '@pay/payments-domain';
import type { Sql } from '../../database/sql';

/**
 * Keeps the payment's row in `payments` as its events leave it, in the append's transaction:
 * the lookups that a stream cannot answer cheaply (which payment holds PaymentIntent pi_…,
 * which payments sit in a non-final status since when) stay exact.
 */
export async function projectPaymentRow(sql: Sql, state: PaymentState, at: Date): Promise<void> {
  const pendingRefunds = state.refunds.filter((refund) => refund.status === 'pending').length;
  await sql.query(
    `INSERT INTO payments (payment_id, request_id, kind, status, payer_id, counterparty_id, amount, currency, provider, reference, pending_refunds, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
     ON CONFLICT (payment_id) DO UPDATE SET
       status = EXCLUDED.status,
       provider = COALESCE(EXCLUDED.provider, payments.provider),
       reference = COALESCE(EXCLUDED.reference, payments.reference),
       pending_refunds = EXCLUDED.pending_refunds,
       version = EXCLUDED.version,
       updated_at = EXCLUDED.updated_at`,
    [
      state.paymentId,
      state.requestId,
      state.kind,
      state.status,
      state.payerId,
      state.counterparty.id,
      state.amount.toString(),
      state.currency,
      state.provider ?? null,
      state.reference ?? null,
      pendingRefunds,
      state.version,
      at.toISOString(),
    ],
  );
}

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
