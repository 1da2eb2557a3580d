import { Injectable } from '@nestjs/common';
import type { PaymentInitiatedData } from '@pay/contracts';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import type { KnownPayment } from './instrument-release-rule';

/**
 * The payments the wallet has seen on payments.events.v1 and whether each still awaits its charge:
 * what an instrument release is checked against. Written in the consumer's inbox transaction, so
 * each event counts once; a later event that came first marks the payment past its charge and the
 * initiation arriving after it changes nothing.
 */
@Injectable()
export class PaymentsInProgress {
  constructor(private readonly dataSource: DataSource) {}

  async initiated(tx: EntityManager, data: PaymentInitiatedData): Promise<void> {
    await tx.query(
      `INSERT INTO payments_in_progress (payment_id, payer_id, payment_method_id, app, stage)
       VALUES ($1, $2, $3, $4, 'awaiting_charge') ON CONFLICT (payment_id) DO NOTHING`,
      [data.paymentId, data.payerId, data.paymentMethodId ?? null, data.app],
    );
  }

  /** Authorised, processing, captured, failed, cancelled or waiting for the payer's action: its instrument was used or is no longer needed. */
  async pastCharge(tx: EntityManager, paymentId: string): Promise<void> {
    await tx.query(
      `INSERT INTO payments_in_progress (payment_id, stage) VALUES ($1, 'past_charge')
       ON CONFLICT (payment_id) DO UPDATE SET stage = 'past_charge', updated_at = now() WHERE payments_in_progress.stage <> 'past_charge'`,
      [paymentId],
    );
  }

  async find(paymentId: string): Promise<KnownPayment | undefined> {
    const [row] = await this.dataSource.query<KnownPayment[]>(
      `SELECT payment_id AS "paymentId", payer_id AS "payerId", payment_method_id AS "paymentMethodId", app, stage
         FROM payments_in_progress WHERE payment_id = $1`,
      [paymentId],
    );
    return row;
  }
}
