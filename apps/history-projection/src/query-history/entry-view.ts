import { ApiProperty } from '@nestjs/swagger';
import { PAYMENT_FAILURE_CODES } from '@pay/contracts';
import type { CsvColumn } from '../export-history/csv';
import { ENTRY_KINDS, ENTRY_STATUSES, METHOD_TYPES } from '../project-events/history-entries';
import type { EntryRow } from './history-query';

export class MoneyView {
  @ApiProperty({ example: '1250', description: 'Minor units as a decimal string; negative for money going back.' })
  amount!: string;

  @ApiProperty({ example: 'EUR' })
  currency!: string;
}

export class PartyView {
  @ApiProperty({ enum: ['person', 'merchant', 'non-profit'] })
  type!: string;

  @ApiProperty({ example: 'm-shop' })
  id!: string;
}

export class PaymentMethodRefView {
  @ApiProperty({ nullable: true, type: String, description: "The wallet's id of the saved method (never card data)." })
  id!: string | null;

  @ApiProperty({ enum: METHOD_TYPES })
  type!: string;
}

export class EntryView {
  @ApiProperty({ example: 'payment:pay-1', description: 'payment:<paymentId>, refund:<paymentId>:<refundId> or chargeback:<paymentId>:<disputeId>' })
  id!: string;

  @ApiProperty()
  paymentId!: string;

  @ApiProperty({ enum: ENTRY_KINDS })
  kind!: string;

  @ApiProperty({ enum: ENTRY_STATUSES, description: "A payment's status, a refund's (pending, succeeded, failed) or charged_back." })
  status!: string;

  @ApiProperty({
    enum: ['in', 'out'],
    required: false,
    description: "Money towards or away from whose history this is; absent in analysts' list of everything.",
  })
  direction?: 'in' | 'out';

  @ApiProperty({ type: PartyView, required: false, description: "The other party, in a person's or business's history." })
  counterparty?: PartyView;

  @ApiProperty({ type: PartyView, description: 'Who pays (always a person).' })
  payer!: PartyView;

  @ApiProperty({ type: PartyView, description: 'Who is paid: merchant, non-profit or person.' })
  payee!: PartyView;

  @ApiProperty({ nullable: true, type: String, enum: ['facebook', 'instagram', 'messenger', 'whatsapp'] })
  app!: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'DE' })
  country!: string | null;

  @ApiProperty({ type: MoneyView, description: 'The amount of the payment (captured, once captured), refund or chargeback.' })
  amount!: MoneyView;

  @ApiProperty({
    type: MoneyView,
    description: 'What moved from payer to payee once settled: the captured amount, minus for a refund or chargeback, 0 while nothing moved.',
  })
  netAmount!: MoneyView;

  @ApiProperty({ type: PaymentMethodRefView })
  paymentMethod!: PaymentMethodRefView;

  @ApiProperty({ nullable: true, type: String, description: 'The ledger transaction that posted this entry, once posted.' })
  ledgerTransactionId!: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    enum: PAYMENT_FAILURE_CODES,
    description:
      "Why a failed payment failed (for a bank debit that failed late, the payer's bank's answer: account_closed, insufficient_funds…), or why a settled bank debit was returned (its chargeback entry); null otherwise.",
  })
  failureCode!: string | null;

  @ApiProperty({ example: '2026-11-25T08:00:00.000000Z' })
  occurredAt!: string;

  @ApiProperty({ example: '2026-11-25T08:00:05.000Z' })
  updatedAt!: string;
}

export class HistoryPageView {
  @ApiProperty({ type: [EntryView] })
  entries!: EntryView[];

  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page; null on the last page.' })
  nextCursor!: string | null;
}

const REVERSING = new Set(['refund', 'chargeback']);

/** Towards or away from whose history this is (undefined in the list of everything). */
export function directionOf(row: Pick<EntryRow, 'side' | 'kind'>): 'in' | 'out' | undefined {
  if (row.side === 'payer') return REVERSING.has(row.kind) ? 'in' : 'out';
  if (row.side === 'payee') return REVERSING.has(row.kind) ? 'out' : 'in';
  return undefined;
}

/** The API's view of a row; in a person's or business's history, `direction` and `counterparty` are from their side. */
export function entryView(row: EntryRow): EntryView {
  const payer = { type: 'person', id: row.payer_id };
  const payee = { type: row.counterparty_type, id: row.counterparty_id };
  const view: EntryView = {
    id: row.entry_id,
    paymentId: row.payment_id,
    kind: row.kind,
    status: row.status,
    payer,
    payee,
    app: row.app,
    country: row.country,
    amount: { amount: row.amount, currency: row.currency },
    netAmount: { amount: row.net_amount, currency: row.currency },
    paymentMethod: { id: row.method_id, type: row.method_type },
    ledgerTransactionId: row.ledger_transaction_id,
    failureCode: row.failure_code,
    occurredAt: row.occurred_at,
    updatedAt: row.updated_at,
  };
  const direction = directionOf(row);
  if (direction !== undefined) {
    view.direction = direction;
    view.counterparty = row.side === 'payer' ? payee : payer;
  }
  return view;
}

export const ENTRY_CSV_COLUMNS: ReadonlyArray<CsvColumn<EntryRow>> = [
  { header: 'id', value: (r) => r.entry_id },
  { header: 'payment_id', value: (r) => r.payment_id },
  { header: 'occurred_at', value: (r) => r.occurred_at },
  { header: 'kind', value: (r) => r.kind },
  { header: 'status', value: (r) => r.status },
  { header: 'direction', value: (r) => directionOf(r) },
  { header: 'payer_id', value: (r) => r.payer_id },
  { header: 'payee_type', value: (r) => r.counterparty_type },
  { header: 'payee_id', value: (r) => r.counterparty_id },
  { header: 'app', value: (r) => r.app },
  { header: 'country', value: (r) => r.country },
  { header: 'currency', value: (r) => r.currency },
  { header: 'amount', value: (r) => r.amount, numeric: true },
  { header: 'net_amount', value: (r) => r.net_amount, numeric: true },
  { header: 'payment_method_type', value: (r) => r.method_type },
  { header: 'ledger_transaction_id', value: (r) => r.ledger_transaction_id },
  { header: 'updated_at', value: (r) => r.updated_at },
  { header: 'failure_code', value: (r) => r.failure_code },
];
