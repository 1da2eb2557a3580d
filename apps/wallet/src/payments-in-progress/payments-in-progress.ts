import { Injectable } from '@nestjs/common';
import type { PaymentInitiatedData } from '@pay/contracts';
import type { BatchWork, InboxBatch } from '@pay/messaging';
import type { NamedStatement, Sql, SqlValue } from '@pay/platform';
import { commitWith, queryNamed } from '@pay/platform';
import type { QueryRunner } from 'typeorm';
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

/**
 * What a chunk tells of its payments, in one statement: each payment's row as the chunk leaves it.
 * A payment initiated in the chunk awaits its charge, unless the chunk also takes it past its charge
 * (it is then written past its charge, with its initiation's details); one only charged in the chunk
 * is written past its charge. A payment the wallet has seen already keeps its row and details, and is
 * moved past its charge if the chunk takes it there: so an initiation arriving after a later event
 * changes nothing, and each event counts once (the consumer's inbox transaction).
 */
const RECORD_CHUNK: NamedStatement = {
  name: 'wallet_payments_in_progress_chunk',
  text: `INSERT INTO payments_in_progress (payment_id, payer_id, payment_method_id, app, stage)
         SELECT payment_id, payer_id, payment_method_id, app, CASE WHEN past THEN 'past_charge' ELSE 'awaiting_charge' END
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[]) AS p(payment_id, payer_id, payment_method_id, app, past)
         ON CONFLICT (payment_id) DO UPDATE SET stage = 'past_charge', updated_at = now()
          WHERE excluded.stage = 'past_charge' AND payments_in_progress.stage <> 'past_charge'`,
};

/** What one inbox chunk tells of payments in progress, written by one statement before its COMMIT (or with it). */
class ChunkChanges implements BatchWork {
  readonly initiated = new Map<string, PaymentInitiatedData>();
  readonly pastCharge = new Set<string>();

  constructor(private readonly sql: Sql) {}

  async beforeCommit(): Promise<void> {
    const values = this.values();
    if (values) await queryNamed(this.sql, RECORD_CHUNK, values);
  }

  /** Nothing reads the statement's outcome before COMMIT: it travels with it. */
  async beforeCommitAndCommit(runner: QueryRunner): Promise<void> {
    const values = this.values();
    if (values) await commitWith(runner, RECORD_CHUNK, values);
  }

  /** RECORD_CHUNK's parameters; undefined when the chunk told nothing of payments in progress. */
  private values(): SqlValue[] | undefined {
    const ids = [...new Set([...this.initiated.keys(), ...this.pastCharge])];
    if (ids.length === 0) return undefined;
    const initiated = ids.map((id) => this.initiated.get(id));
    return [
      ids,
      initiated.map((d) => d?.payerId ?? null),
      initiated.map((d) => d?.paymentMethodId ?? null),
      initiated.map((d) => d?.app ?? null),
      ids.map((id) => this.pastCharge.has(id)),
    ];
  }
}
