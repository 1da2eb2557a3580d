import { Inject, Injectable } from '@nestjs/common';
import type { PaymentCapturedData, PaymentDisputeLostData, PaymentFailedData, PaymentProcessingData, PaymentRefundedData } from '@pay/contracts';
import { LedgerError } from '@pay/ledger-domain';
import type { PostgresLedger } from '@pay/ledger-store';
import type { ConsumedEvent, InboxBatch } from '@pay/messaging';
import { PermanentEventError } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import type { NamedStatement, Sql } from '@pay/platform';
import { LOGGER, queryNamed, SERVICE_CONFIG } from '@pay/platform';
import type { WalletConfig } from '../config';
import { LEDGER } from '../ledger';
import { LedgerAccounts } from '../money/ledger-accounts';
import { captureTransactionId, debitFailedTransactionId, debitPendingTransactionId, disputeLossTransactionId, refundTransactionId } from '../money/ledger-ids';
import type { PostedCapture, PostingPlan, PostingPolicy } from './payment-postings';
import { planCapture, planDebitFailed, planDebitPending, planDisputeLoss, planRefund, PostingRefused } from './payment-postings';
import type { SettlesDebit } from './pending-postings';
import { PendingPostings } from './pending-postings';

/** A capture's payment_ledger_postings row as pg returns it: the same fields, bigints as text. */
type CaptureRow = { readonly [K in keyof PostedCapture]: string };

const CAPTURE_COLUMNS = `transaction_id AS "transactionId", clearing_account_id AS "clearingAccountId",
              counterparty_account_id AS "counterpartyAccountId", currency, amount, fee`;

const POSTED: NamedStatement = { name: 'wallet_payment_posted', text: 'SELECT 1 FROM payment_ledger_postings WHERE transaction_id = $1' };
const POSTED_MOVEMENT: NamedStatement = {
  name: 'wallet_payment_posted_movement',
  text: `SELECT ${CAPTURE_COLUMNS} FROM payment_ledger_postings WHERE payment_id = $1 AND movement = $2`,
};
const TAKEN_BACK: NamedStatement = {
  name: 'wallet_payment_taken_back',
  text: `SELECT coalesce(sum(amount), 0)::text AS taken_back FROM payment_ledger_postings WHERE payment_id = $1 AND movement IN ('refund', 'dispute_loss')`,
};

/**
 * Posts payments.events.v1 to the ledger (docs/adr/0007): captured, refunded and dispute-lost
 * events become one balanced transaction each, under an id derived from the payment (and the
 * refund or dispute), so a redelivered or re-published event replays the first posting.
 *
 * The postings of a chunk of events are recorded in the ledger as one append inside the inbox's
 * transaction (PendingPostings, just before it commits), with what was posted
 * (`payment_ledger_postings`): the inbox rows, the entries and that record commit together.
 * A refund or chargeback is checked against what its payment posted, so a movement of the same
 * payment queued earlier in the chunk is appended first.
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

  async captured({ envelope }: ConsumedEvent<PaymentCapturedData>, sql: Sql, batch: InboxBatch): Promise<void> {
    const { data } = envelope;
    const transactionId = captureTransactionId(data.paymentId);
    const pending = this.pendingIn(sql, batch);
    if (pending.has(transactionId)) return;
    // A settled bank debit empties its pending posting, which may wait in this chunk.
    if (pending.touches(data.paymentId)) await pending.flush();
    let plan: PostingPlan | null;
    try {
      plan = refusalsArePermanent(() => planCapture(data, this.policy));
    } catch (error) {
      // Refused now, but posted already under an earlier envelope: nothing to do, as before the rules changed.
      if (await this.alreadyPosted(sql, transactionId)) return;
      throw error;
    }
    if (!plan) {
      this.logger.debug({ paymentId: data.paymentId, eventId: envelope.id }, 'captured from wallet balance: posted by its reservation, nothing to post');
      return;
    }
    // Whether it was posted already, and whether it settles a bank debit posted as pending, are
    // looked up for the whole chunk at once (PendingPostings), not one statement per capture.
    const settlesDebit = (debit: PostedCapture): PostingPlan => planCapture(data, this.policy, debit) ?? plan;
    await this.queue(plan, envelope, pending, settlesDebit);
  }

  /** A bank debit on its way: posted to the pending layer until it settles or fails. */
  async processing({ envelope }: ConsumedEvent<PaymentProcessingData>, sql: Sql, batch: InboxBatch): Promise<void> {
    const { data } = envelope;
    const pending = this.pendingIn(sql, batch);
    if (pending.has(debitPendingTransactionId(data.paymentId))) return;
    await this.queue(
      refusalsArePermanent(() => planDebitPending(data)),
      envelope,
      pending,
    );
  }

  /**
   * A failed payment moves money only when it was a bank debit posted as pending and not settled
   * (a late failure): the pending layer is emptied. Declines before that posted nothing.
   */
  async failed({ envelope }: ConsumedEvent<PaymentFailedData>, sql: Sql, batch: InboxBatch): Promise<void> {
    const { data } = envelope;
    const pending = this.pendingIn(sql, batch);
    const transactionId = debitFailedTransactionId(data.paymentId);
    if (pending.has(transactionId)) return;
    if (pending.touches(data.paymentId)) await pending.flush();
    const debit = await this.postedMovement(sql, data.paymentId, 'debit_pending');
    if (!debit) return;
    if (await this.postedMovement(sql, data.paymentId, 'capture')) {
      // Orchestration records a return after settlement as a lost dispute (posted as one); a failed event after a capture is a producer's bug.
      throw new PermanentEventError(
        `payment ${data.paymentId}: its bank debit settled and was posted; a return after that comes as a lost dispute, not as failed`,
      );
    }
    await this.queue(planDebitFailed(data.paymentId, debit), envelope, pending);
  }

  async refunded({ envelope }: ConsumedEvent<PaymentRefundedData>, sql: Sql, batch: InboxBatch): Promise<void> {
    const { data } = envelope;
    const pending = this.pendingIn(sql, batch);
    const transactionId = refundTransactionId(data.paymentId, data.refundId);
    if (pending.has(transactionId)) return;
    if (pending.touches(data.paymentId)) await pending.flush();
    if (await this.alreadyPosted(sql, transactionId)) return;
    const { capture, takenBack } = await this.postedCapture(sql, data.paymentId);
    await this.queue(
      refusalsArePermanent(() => planRefund(data, capture, takenBack)),
      envelope,
      pending,
    );
  }

  async disputeLost({ envelope }: ConsumedEvent<PaymentDisputeLostData>, sql: Sql, batch: InboxBatch): Promise<void> {
    const { data } = envelope;
    const pending = this.pendingIn(sql, batch);
    const transactionId = disputeLossTransactionId(data.paymentId, data.disputeId);
    if (pending.has(transactionId)) return;
    if (pending.touches(data.paymentId)) await pending.flush();
    if (await this.alreadyPosted(sql, transactionId)) return;
    const { capture, takenBack } = await this.postedCapture(sql, data.paymentId);
    await this.queue(
      refusalsArePermanent(() => planDisputeLoss(data, capture, takenBack, this.policy)),
      envelope,
      pending,
    );
  }

  private pendingIn(sql: Sql, batch: InboxBatch): PendingPostings {
    return batch.work(this, () => new PendingPostings(this.ledger, sql, this.logger));
  }

  private async queue(plan: PostingPlan, envelope: ConsumedEvent['envelope'], pending: PendingPostings, settlesDebit?: SettlesDebit): Promise<void> {
    // Accounts open in their own committed transactions (cached): opening them inside the inbox
    // transaction would hold their new rows locked while it waits for the ledger's chain lock.
    await this.accounts.ensureOpen(plan.accounts).catch((error: unknown) => {
      throw error instanceof LedgerError
        ? new PermanentEventError(`cannot open an account for payment ${plan.paymentId}: ${error.code}: ${error.message}`)
        : error;
    });
    pending.add(plan, envelope, settlesDebit);
  }

  /** The same payment event re-published under a new envelope id: posted already, nothing to do. */
  private async alreadyPosted(sql: Sql, transactionId: string): Promise<boolean> {
    const rows = await queryNamed(sql, POSTED, [transactionId]);
    return rows.length > 0;
  }

  private async postedMovement(sql: Sql, paymentId: string, movement: 'capture' | 'debit_pending'): Promise<PostedCapture | undefined> {
    const [row] = await queryNamed<CaptureRow>(sql, POSTED_MOVEMENT, [paymentId, movement]);
    return row && { ...row, amount: BigInt(row.amount), fee: BigInt(row.fee) };
  }

  private async postedCapture(sql: Sql, paymentId: string): Promise<{ capture: PostedCapture | undefined; takenBack: bigint }> {
    const [row] = await queryNamed<CaptureRow>(sql, POSTED_MOVEMENT, [paymentId, 'capture']);
    const [sum] = await queryNamed<{ taken_back: string }>(sql, TAKEN_BACK, [paymentId]);
    const capture: PostedCapture | undefined = row && { ...row, amount: BigInt(row.amount), fee: BigInt(row.fee) };
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
