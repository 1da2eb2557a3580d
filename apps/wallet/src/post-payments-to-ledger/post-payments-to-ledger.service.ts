import { Inject, Injectable } from '@nestjs/common';
import type { EventEnvelope, PaymentCapturedData, PaymentDisputeLostData, PaymentRefundedData } from '@pay/contracts';
import { PaymentCapturedV1, PaymentDisputeLostV1, PaymentRefundedV1 } from '@pay/contracts';
import { LedgerError } from '@pay/ledger-domain';
import type { PostgresLedger } from '@pay/ledger-store';
import type { ConsumedEvent, EventHandler } from '@pay/messaging';
import { PermanentEventError } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import { LOGGER, SERVICE_CONFIG } from '@pay/platform';
import type { EntityManager } from 'typeorm';
import type { WalletConfig } from '../config';
import { LEDGER } from '../ledger';
import { LedgerAccounts } from '../money/ledger-accounts';
import { captureTransactionId, disputeLossTransactionId, refundTransactionId } from '../money/ledger-ids';
import type { PostedCapture, PostingPlan, PostingPolicy } from './payment-postings';
import { planCapture, planDisputeLoss, planRefund, PostingRefused } from './payment-postings';

/** Ledger refusals a later attempt may not meet (the transfer being reversed is not there yet). */
const TRANSIENT_LEDGER_CODES: ReadonlySet<string> = new Set(['TRANSACTION_NOT_FOUND']);

interface CaptureRow {
  transaction_id: string;
  clearing_account_id: string;
  counterparty_account_id: string;
  currency: string;
  amount: string;
  fee: string;
}

/**
 * Posts payments.events.v1 to the ledger (docs/adr/0007): captured, refunded and dispute-lost
 * events become one balanced transaction each, under an id derived from the payment (and the
 * refund or dispute), so a redelivered or re-published event replays the first posting.
 *
 * The ledger commits in its own (group-committed) transaction, not in the inbox's: a crash
 * between the two redelivers the event, which records the same id again and gets the first
 * result. What was posted is remembered in `payment_ledger_postings`, in the inbox's transaction.
 */
@Injectable()
export class PostPaymentsToLedger {
  private readonly policy: PostingPolicy;
  private readonly accounts: LedgerAccounts;

  constructor(
    @Inject(LEDGER) private readonly ledger: PostgresLedger,
    @Inject(SERVICE_CONFIG) config: WalletConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.policy = {
      fee: { basisPoints: config.PAYMENT_FEE_BPS, fixedMinor: BigInt(config.PAYMENT_FEE_FIXED_MINOR) },
      disputeFeeMinor: BigInt(config.PAYMENT_DISPUTE_FEE_MINOR),
    };
    this.accounts = new LedgerAccounts(ledger);
  }

  /** Handlers by event type for the InboxConsumer; other payment events move no money here. */
  handlers(): Record<string, EventHandler> {
    return {
      [PaymentCapturedV1.type]: (event, tx) => this.captured(event as ConsumedEvent<PaymentCapturedData>, tx),
      [PaymentRefundedV1.type]: (event, tx) => this.refunded(event as ConsumedEvent<PaymentRefundedData>, tx),
      [PaymentDisputeLostV1.type]: (event, tx) => this.disputeLost(event as ConsumedEvent<PaymentDisputeLostData>, tx),
    };
  }

  async captured({ envelope }: ConsumedEvent<PaymentCapturedData>, tx: EntityManager): Promise<void> {
    const { data } = envelope;
    if (await this.alreadyPosted(tx, captureTransactionId(data.paymentId))) return;
    const plan = refusalsArePermanent(() => planCapture(data, this.policy));
    if (!plan) {
      this.logger.debug({ paymentId: data.paymentId, eventId: envelope.id }, 'captured from wallet balance: posted by its reservation, nothing to post');
      return;
    }
    await this.post(plan, envelope, tx);
  }

  async refunded({ envelope }: ConsumedEvent<PaymentRefundedData>, tx: EntityManager): Promise<void> {
    const { data } = envelope;
    if (await this.alreadyPosted(tx, refundTransactionId(data.paymentId, data.refundId))) return;
    const { capture, takenBack } = await this.postedCapture(tx, data.paymentId);
    await this.post(refusalsArePermanent(() => planRefund(data, capture, takenBack)), envelope, tx);
  }

  async disputeLost({ envelope }: ConsumedEvent<PaymentDisputeLostData>, tx: EntityManager): Promise<void> {
    const { data } = envelope;
    if (await this.alreadyPosted(tx, disputeLossTransactionId(data.paymentId, data.disputeId))) return;
    const { capture, takenBack } = await this.postedCapture(tx, data.paymentId);
    await this.post(refusalsArePermanent(() => planDisputeLoss(data, capture, takenBack, this.policy)), envelope, tx);
  }

  private async post(plan: PostingPlan, envelope: EventEnvelope, tx: EntityManager): Promise<void> {
    await this.accounts.ensureOpen(plan.accounts).catch((error: unknown) => {
      throw error instanceof LedgerError ? new PermanentEventError(`cannot open an account for payment ${plan.paymentId}: ${error.code}: ${error.message}`) : error;
    });
    const outcome = await this.ledger.submit({ ...plan.command, correlationId: envelope.correlationId, causationId: envelope.id });
    if (!outcome.ok) {
      const reason = `the ledger refused the ${plan.movement} of payment ${plan.paymentId} (${plan.transactionId}): ${outcome.error.code}: ${outcome.error.message}`;
      throw TRANSIENT_LEDGER_CODES.has(outcome.error.code) ? new Error(reason) : new PermanentEventError(reason);
    }
    if (!plan.record) return;
    await tx.query(
      `INSERT INTO payment_ledger_postings
         (transaction_id, payment_id, movement, event_id, ledger_position, clearing_account_id, counterparty_account_id, currency, amount, fee)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (transaction_id) DO NOTHING`,
      [
        plan.transactionId,
        plan.paymentId,
        plan.movement,
        envelope.id,
        outcome.entry.position.toString(),
        plan.record.clearingAccountId,
        plan.record.counterpartyAccountId,
        plan.record.currency,
        plan.record.amount.toString(),
        plan.record.fee.toString(),
      ],
    );
    this.logger.info(
      { paymentId: plan.paymentId, transactionId: plan.transactionId, movement: plan.movement, position: outcome.entry.position.toString(), replayed: outcome.replayed },
      'payment posted to the ledger',
    );
  }

  /** The same payment event re-published under a new envelope id: posted already, nothing to do. */
  private async alreadyPosted(tx: EntityManager, transactionId: string): Promise<boolean> {
    const rows: unknown[] = await tx.query('SELECT 1 FROM payment_ledger_postings WHERE transaction_id = $1', [transactionId]);
    return rows.length > 0;
  }

  private async postedCapture(tx: EntityManager, paymentId: string): Promise<{ capture: PostedCapture | undefined; takenBack: bigint }> {
    const [row]: CaptureRow[] = await tx.query(
      `SELECT transaction_id, clearing_account_id, counterparty_account_id, currency, amount, fee
         FROM payment_ledger_postings WHERE payment_id = $1 AND movement = 'capture'`,
      [paymentId],
    );
    const [sum]: { taken_back: string }[] = await tx.query(
      `SELECT coalesce(sum(amount), 0)::text AS taken_back FROM payment_ledger_postings WHERE payment_id = $1 AND movement IN ('refund', 'dispute_loss')`,
      [paymentId],
    );
    const capture: PostedCapture | undefined = row && {
      transactionId: row.transaction_id,
      clearingAccountId: row.clearing_account_id,
      counterpartyAccountId: row.counterparty_account_id,
      currency: row.currency,
      amount: BigInt(row.amount),
      fee: BigInt(row.fee),
    };
    return { capture, takenBack: BigInt(sum?.taken_back ?? '0') };
  }
}

function refusalsArePermanent<T>(plan: () => T): T {
  try {
    return plan();
  } catch (error) {
    if (error instanceof PostingRefused) throw new PermanentEventError(error.message);
    throw error;
  }
}
