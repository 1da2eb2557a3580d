import { Injectable } from '@nestjs/common';
import type { PaymentInitiatedData } from '@pay/contracts';
import type { BatchWork, InboxBatch } from '@pay/messaging';
import type { NamedStatement, Sql } from '@pay/platform';
import { queryNamed } from '@pay/platform';
import { DataSource } from 'typeorm';
import { ForgetFinishedPayments } from './forget-finished-payments';
import type { KnownPayment } from './instrument-release-rule';

/**
 * The payments the wallet has seen on payments.events.v1 and whether each still awaits its charge:
 * what an instrument release is checked against. Written in the consumer's inbox transaction, so
 * each event counts once; a later event that came first marks the payment past its charge and the
 * initiation arriving after it changes nothing.
 */
@Injectable()
export class PaymentsInProgress {
  constructor(
    private readonly dataSource: DataSource,
    private readonly housekeeping: ForgetFinishedPayments,
  ) {}

  /** The payment is initiated: it awaits its charge (unless a later event of it came first). Written with the chunk's others before COMMIT. */
  initiated(sql: Sql, batch: InboxBatch, data: PaymentInitiatedData): void {
    this.changes(sql, batch).initiated.set(data.paymentId, data);
  }

  /** Authorised, processing, captured, failed, cancelled or waiting for the payer's action: its instrument was used or is no longer needed. */
  pastCharge(sql: Sql, batch: InboxBatch, paymentId: string): void {
    this.changes(sql, batch).pastCharge.add(paymentId);
    this.housekeeping.paymentFinished();
  }

  private changes(sql: Sql, batch: InboxBatch): ChunkChanges {
    return batch.work(this, () => new ChunkChanges(sql));
  }

  /** The payments of these ids the wallet has seen, by id: one statement. */
  async findAll(paymentIds: readonly string[]): Promise<Map<string, KnownPayment>> {
    const rows = await this.dataSource.query<KnownPayment[]>(
      `SELECT payment_id AS "paymentId", payer_id AS "payerId", payment_method_id AS "paymentMethodId", app, stage
         FROM payments_in_progress WHERE payment_id = ANY($1::text[])`,
      [paymentIds],
    );
    return new Map(rows.map((row) => [row.paymentId, row]));
  }
}

/** Initiations of a chunk: each payment awaits its charge, unless an event of it past the charge came first. */
const RECORD_INITIATED: NamedStatement = {
  name: 'wallet_payments_initiated',
  text: `INSERT INTO payments_in_progress (payment_id, payer_id, payment_method_id, app, stage)
         SELECT payment_id, payer_id, payment_method_id, app, 'awaiting_charge'
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS p(payment_id, payer_id, payment_method_id, app)
         ON CONFLICT (payment_id) DO NOTHING`,
};
const RECORD_PAST_CHARGE: NamedStatement = {
  name: 'wallet_payments_past_charge',
  text: `INSERT INTO payments_in_progress (payment_id, stage) SELECT payment_id, 'past_charge' FROM unnest($1::text[]) AS p(payment_id)
         ON CONFLICT (payment_id) DO UPDATE SET stage = 'past_charge', updated_at = now() WHERE payments_in_progress.stage <> 'past_charge'`,
};

/**
 * What one inbox chunk tells of payments in progress, written by two statements before its COMMIT
 * (initiations first: a payment initiated and charged in the same chunk ends past its charge, as
 * it would one event at a time).
 */
class ChunkChanges implements BatchWork {
  readonly initiated = new Map<string, PaymentInitiatedData>();
  readonly pastCharge = new Set<string>();

  constructor(private readonly sql: Sql) {}

  async beforeCommit(): Promise<void> {
    const initiated = [...this.initiated.values()];
    if (initiated.length > 0)
      await queryNamed(this.sql, RECORD_INITIATED, [
        initiated.map((d) => d.paymentId),
        initiated.map((d) => d.payerId),
        initiated.map((d) => d.paymentMethodId ?? null),
        initiated.map((d) => d.app),
      ]);
    if (this.pastCharge.size > 0) await queryNamed(this.sql, RECORD_PAST_CHARGE, [[...this.pastCharge]]);
  }
}
