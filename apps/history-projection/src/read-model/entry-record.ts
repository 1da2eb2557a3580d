/**
 * One row of the entries table (read-model-schema.ts) as the code reads and writes it: amounts as
 * text (bigint columns), timestamps as `Timestamp`: text when written or selected through
 * to_char, a Date or text when they come from the driver as timestamptz.
 */
export interface EntryRecord<Timestamp = string> {
  entry_id: string;
  payment_id: string;
  kind: string;
  status: string;
  payer_id: string;
  counterparty_type: string;
  counterparty_id: string;
  app: string | null;
  country: string | null;
  currency: string;
  amount: string;
  net_amount: string;
  method_id: string | null;
  method_type: string;
  provider: string | null;
  ledger_transaction_id: string | null;
  failure_code: string | null;
  occurred_at: Timestamp;
  updated_at: Timestamp;
}
