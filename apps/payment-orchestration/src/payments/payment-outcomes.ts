import type { Counter } from '@opentelemetry/api';
import { meter } from '@pay/observability';
import type { PaymentEvent, PaymentState } from '@pay/payments-domain';
import type { DataSource, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import type { Sql } from '../database/sql';
import { runnerOf } from '../database/sql';

/** What became of a payment, as the business counts it. */
export type PaymentOutcome = 'captured' | 'declined' | 'failed' | 'canceled' | 'refunded' | 'refund_failed' | 'dispute_lost';

export interface CountedOutcome {
  readonly outcome: PaymentOutcome;
  readonly attributes: Readonly<Record<'kind' | 'app' | 'country' | 'provider', string>>;
}

/**
 * The outcomes a run of appended events reaches, labelled from the payment right after them
 * (`provider` is `none` where no PSP took part: wallet-balance transfers, refusals before one).
 * A failure is a decline when the PSP gave a decline code or named it one (`card_declined`,
 * `capture_declined`), else a failure.
 */
export function outcomesOf(events: readonly PaymentEvent[], after: PaymentState): CountedOutcome[] {
  const attributes = { kind: after.kind, app: after.app, country: after.country, provider: after.provider ?? 'none' };
  const outcomes: CountedOutcome[] = [];
  for (const event of events) {
    const outcome = outcomeOf(event);
    if (outcome) outcomes.push({ outcome, attributes });
  }
  return outcomes;
}

function outcomeOf(event: PaymentEvent): PaymentOutcome | undefined {
  switch (event.type) {
    case 'Captured':
      return 'captured';
    case 'Failed':
      return event.declineCode !== undefined || event.code.includes('declined') ? 'declined' : 'failed';
    case 'Canceled':
      return 'canceled';
    case 'Refunded':
      return 'refunded';
    case 'RefundFailed':
      return 'refund_failed';
    case 'DisputeLost':
      return 'dispute_lost';
    default:
      return undefined;
  }
}

let counter: Counter | undefined;
const outcomesCounter = (): Counter =>
  (counter ??= meter().createCounter('payments.outcomes', {
    description: 'Payment outcomes committed (captured, declined, failed, canceled, refunded, refund_failed, dispute_lost), by kind, app, country and provider',
  }));

/** Outcomes written in a transaction still open, with the depth (savepoint) each was written at. */
const pending = new WeakMap<QueryRunner, Array<{ depth: number; outcome: CountedOutcome }>>();
const watched = new WeakSet<DataSource>();

function count(outcomes: readonly CountedOutcome[]): void {
  for (const { outcome, attributes } of outcomes) outcomesCounter().add(1, { outcome, ...attributes });
}

/**
 * Counts outcomes only once the transaction that wrote them has committed: a handler that appends
 * `Captured` and then rolls back (a lost race, a failed chunk of the inbox retried event by event,
 * a crash) counts nothing, and its retry that commits counts once. Every transaction of the
 * service's DataSource (`inTransaction`, the inbox's chunks) ends through TypeORM's query runner,
 * whose commit and rollback its subscribers hear; a statement outside a transaction
 * (`onConnection`) has committed when it returns. Writes through an Sql this service did not make
 * (none in the service) cannot be told committed, and are not counted.
 */
export class CommittedPaymentOutcomes implements EntitySubscriberInterface {
  /** Watches the DataSource's transactions (once per DataSource). */
  static watch(dataSource: DataSource): void {
    if (watched.has(dataSource)) return;
    watched.add(dataSource);
    dataSource.subscribers.push(new CommittedPaymentOutcomes());
  }

  /** Counts what an autocommitted statement wrote (it has committed). */
  static count(outcomes: readonly CountedOutcome[]): void {
    if (outcomes.length > 0) count(outcomes);
  }

  /** Records what an append wrote through `sql`: counted now if it committed, at its transaction's commit otherwise. */
  static record(sql: Sql, outcomes: readonly CountedOutcome[]): void {
    if (outcomes.length === 0) return;
    const runner = runnerOf(sql);
    if (!runner) return;
    if (!runner.isTransactionActive) return count(outcomes);
    const depth = depthOf(runner);
    const list = pending.get(runner) ?? [];
    for (const outcome of outcomes) list.push({ depth, outcome });
    pending.set(runner, list);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    const list = pending.get(runner);
    if (!list) return;
    if (runner.isTransactionActive) {
      // A savepoint released: what was written inside it now belongs to the enclosing level.
      const depth = depthOf(runner);
      for (const entry of list) entry.depth = Math.min(entry.depth, depth);
      return;
    }
    pending.delete(runner);
    count(list.map((entry) => entry.outcome));
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const list = pending.get(runner);
    if (!list) return;
    if (!runner.isTransactionActive) return void pending.delete(runner);
    // Rolled back to a savepoint: only what was written inside it is gone.
    const depth = depthOf(runner);
    pending.set(
      runner,
      list.filter((entry) => entry.depth <= depth),
    );
  }
}

function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth?: number }).transactionDepth ?? 0;
}
