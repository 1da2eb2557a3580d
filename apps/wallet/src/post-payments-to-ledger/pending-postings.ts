import type { EventEnvelope } from '@pay/contracts';
import type { PostgresLedger } from '@pay/ledger-store';
import type { BatchWork } from '@pay/messaging';
import { BatchedEventError, PermanentEventError } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import { traceHeaders } from '@pay/observability';
import type { NamedStatement, Sql, SqlValue } from '@pay/platform';
import { commitWith, queryNamed, runnerOf } from '@pay/platform';
import type { QueryRunner } from 'typeorm';
import type { PostedCapture, PostingPlan } from './payment-postings';
import { PostingRefused } from './payment-postings';

/** Ledger refusals a later attempt may not meet (the transfer being reversed is not there yet). */
const TRANSIENT_LEDGER_CODES: ReadonlySet<string> = new Set(['TRANSACTION_NOT_FOUND']);

/**
 * A capture that settles a bank debit posts differently (it also empties the debit's pending
 * layer): given the debit posted for its payment, the plan to record instead.
 */
export type SettlesDebit = (debit: PostedCapture) => PostingPlan;

interface Queued {
  readonly plan: PostingPlan;
  readonly settlesDebit?: SettlesDebit;
  readonly envelope: EventEnvelope;
  /** The consumer span of the event: its ledger event continues that trace. */
  readonly trace: Record<string, string>;
}

/** What a chunk's payment movements find posted already, and the bank debits its captures may settle. */
const KNOWN_POSTINGS: NamedStatement = {
  name: 'wallet_known_postings',
  text: `SELECT transaction_id AS "transactionId", payment_id AS "paymentId", movement, clearing_account_id AS "clearingAccountId",
                counterparty_account_id AS "counterpartyAccountId", currency, amount::text AS amount, fee::text AS fee
           FROM payment_ledger_postings
          WHERE transaction_id = ANY($1::text[]) OR (movement = 'debit_pending' AND payment_id = ANY($2::text[]))`,
};

/** What the wallet remembers of the movements a chunk posted (clock_timestamp(): rows of one transaction keep the order they were posted in). */
const REMEMBER_POSTINGS: NamedStatement = {
  name: 'wallet_remember_postings',
  text: `INSERT INTO payment_ledger_postings
           (transaction_id, payment_id, movement, event_id, ledger_position, clearing_account_id, counterparty_account_id, currency, amount, fee, posted_at)
         SELECT p.*, clock_timestamp()
           FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[])
                AS p(transaction_id, payment_id, movement, event_id, ledger_position, clearing_account_id, counterparty_account_id, currency, amount, fee)
         ON CONFLICT (transaction_id) DO NOTHING`,
};

/**
 * The postings of one inbox transaction (a chunk of payment events): recorded in the ledger as
 * one append, in that same transaction, with their `payment_ledger_postings` rows, just before
 * it commits. So the inbox rows, the ledger entries (and their outbox events) and what the
 * wallet remembers of them commit together, or not at all.
 */
export class PendingPostings implements BatchWork {
  private queued: Queued[] = [];

  constructor(
    private readonly ledger: PostgresLedger,
    private readonly sql: Sql,
    private readonly logger: Logger,
  ) {}

  /** Whether the chunk already queued this ledger transaction (the same event published twice). */
  has(transactionId: string): boolean {
    return this.queued.some((q) => q.plan.transactionId === transactionId);
  }

  /** Whether a movement of this payment waits here (a refund must be checked against it). */
  touches(paymentId: string): boolean {
    return this.queued.some((q) => q.plan.paymentId === paymentId);
  }

  add(plan: PostingPlan, envelope: EventEnvelope, settlesDebit?: SettlesDebit): void {
    this.queued.push({ plan, envelope, trace: traceHeaders(), ...(settlesDebit ? { settlesDebit } : {}) });
  }

  beforeCommit(): Promise<void> {
    return this.flush();
  }

  /** The postings remembered (the chunk's last statement, whose outcome nothing reads) travel with the COMMIT. */
  beforeCommitAndCommit(runner: QueryRunner): Promise<void> {
    return this.flush(runner);
  }

  /**
   * Records what is queued. A command the ledger refuses fails only its own event
   * (BatchedEventError): the consumer applies the chunk again without it. With `committing`, the
   * last statement is sent with the transaction's COMMIT on it (when there is nothing to remember,
   * the transaction is left for the consumer to commit).
   */
  async flush(committing?: QueryRunner): Promise<void> {
    const queued = this.queued;
    this.queued = [];
    if (queued.length === 0) return;
    // One look-up for the whole chunk: what is posted already (the same payment event re-published
    // under a new envelope id: nothing to do), and the bank debits its captures may settle.
    const debitsOf = queued.filter((q) => q.settlesDebit).map((q) => q.plan.paymentId);
    const known = await queryNamed<{ [K in keyof PostedCapture]: string } & { paymentId: string; movement: string }>(this.sql, KNOWN_POSTINGS, [
      queued.map((q) => q.plan.transactionId),
      debitsOf,
    ]);
    const posted = new Set(known.map((row) => row.transactionId));
    const debits = new Map(
      known
        .filter((row) => row.movement === 'debit_pending')
        .map((row) => [row.paymentId, { ...row, amount: BigInt(row.amount), fee: BigInt(row.fee) } satisfies PostedCapture] as const),
    );
    const todo = queued
      .filter((q) => !posted.has(q.plan.transactionId))
      .map((q) => {
        const debit = q.settlesDebit && debits.get(q.plan.paymentId);
        if (!debit || !q.settlesDebit) return q;
        try {
          return { ...q, plan: q.settlesDebit(debit) };
        } catch (error) {
          throw new BatchedEventError(q.envelope.id, error instanceof PostingRefused ? new PermanentEventError(error.message) : error);
        }
      });
    if (todo.length === 0) return;
    const runner = runnerOf(this.sql);
    if (!runner) throw new Error('payment postings are recorded inside the inbox transaction: expected an Sql on its query runner (sqlOf)');
    const outcomes = await this.ledger.recordWithin(
      runner,
      todo.map(({ plan, envelope, trace }) => ({ command: { ...plan.command, correlationId: envelope.correlationId, causationId: envelope.id }, trace })),
    );
    const records: Array<{ queued: Queued; position: bigint; replayed: boolean }> = [];
    for (const [i, outcome] of outcomes.entries()) {
      const { plan, envelope } = todo[i];
      if (!outcome.ok) {
        const reason = `the ledger refused the ${plan.movement} of payment ${plan.paymentId} (${plan.transactionId}): ${outcome.error.code}: ${outcome.error.message}`;
        throw new BatchedEventError(envelope.id, TRANSIENT_LEDGER_CODES.has(outcome.error.code) ? new Error(reason) : new PermanentEventError(reason));
      }
      records.push({ queued: todo[i], position: outcome.entry.position, replayed: outcome.replayed });
    }
    // The postings whose figures are kept, each with its record (so no column below needs a fallback for a missing one).
    const remembered = records.flatMap((r) => (r.queued.plan.record ? [{ ...r, record: r.queued.plan.record }] : []));
    if (remembered.length > 0) {
      const column = <T>(value: (r: (typeof remembered)[number]) => T): T[] => remembered.map(value);
      const values: SqlValue[] = [
        column((r) => r.queued.plan.transactionId),
        column((r) => r.queued.plan.paymentId),
        column((r) => r.queued.plan.movement),
        column((r) => r.queued.envelope.id),
        column((r) => r.position.toString()),
        column((r) => r.record.clearingAccountId),
        column((r) => r.record.counterpartyAccountId),
        column((r) => r.record.currency),
        column((r) => r.record.amount.toString()),
        column((r) => r.record.fee.toString()),
      ];
      if (committing) await commitWith(committing, REMEMBER_POSTINGS, values);
      else await queryNamed(this.sql, REMEMBER_POSTINGS, values);
    }
    for (const { queued: q, position, replayed } of records) {
      this.logger.info(
        { paymentId: q.plan.paymentId, transactionId: q.plan.transactionId, movement: q.plan.movement, position: position.toString(), replayed },
        'payment posted to the ledger',
      );
    }
  }
}
