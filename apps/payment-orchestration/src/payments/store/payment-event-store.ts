import { randomUUID } from 'node:crypto';
import type { EventEnvelope, ServiceName } from '@pay/contracts';
import { createEvent, Topics } from '@pay/contracts';
import { appendToOutbox } from '@pay/messaging';
import type { PaymentEvent, PaymentInitiated } from '@pay/payments-domain';
import { Payment, PaymentTransitionError } from '@pay/payments-domain';
import type { DataSource } from 'typeorm';
import type { Sql } from '../../database/sql';
import { constraintOf, inTransaction, sqlOf, sqlStateOf, UNIQUE_VIOLATION } from '../../database/sql';
import { decodePaymentEvent, encodePaymentEvent } from './payment-event-codec';
import { projectPaymentRow } from './payment-row';
import { toPublishedEvent } from './payment-event-contracts';

/** Another writer appended to the payment since it was read: reload, decide again, retry. */
/**
 * A writer lost the race for the payment's next version inside its own transaction (appendWith):
 * the transaction is aborted, and the whole of it may run again from a fresh read.
 */
export function isLostAppendRace(error: unknown): boolean {
  return error instanceof PaymentVersionConflictError || (sqlStateOf(error) === UNIQUE_VIOLATION && constraintOf(error) === 'payment_events_pkey');
}

export class PaymentVersionConflictError extends Error {
  constructor(
    readonly paymentId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number | undefined,
  ) {
    super(`payment ${paymentId} is at version ${actualVersion ?? 'unknown (a concurrent append won)'}, not the expected ${expectedVersion}`);
    this.name = 'PaymentVersionConflictError';
  }
}

export interface AppendContext {
  /** The request or event this change belongs to (the envelope's correlationId); new when absent. */
  readonly correlationId?: string;
  /** The event or command that caused it. */
  readonly causationId?: string;
  /**
   * Further writes that must commit with the events or not at all (an idempotency record, a
   * step to schedule, a command to the wallet, the webhook marked applied).
   */
  readonly onAppended?: (sql: Sql, appended: Appended) => Promise<void>;
}

export interface Appended {
  readonly payment: Payment;
  /** The envelopes written to the outbox, in stream order. */
  readonly envelopes: readonly EventEnvelope[];
}

export interface PaymentEventStoreOptions {
  readonly source?: ServiceName;
  readonly now?: () => Date;
}

interface EventRow {
  sequence: number;
  type: string;
  data: unknown;
}

/**
 * The payments' event streams in PostgreSQL. An append runs in one transaction: it reads the
 * stream, checks the expected version, applies the new events to the aggregate (so the table
 * never holds a history the state machine would refuse), inserts them, and puts their
 * `payments.events.v1` envelopes in the outbox — published if and only if the append commits.
 * A concurrent append at the same version loses on the (payment_id, sequence) key.
 */
export class PaymentEventStore {
  private readonly source: ServiceName;
  private readonly now: () => Date;

  constructor(
    private readonly dataSource: DataSource,
    options: PaymentEventStoreOptions = {},
  ) {
    this.source = options.source ?? 'payment-orchestration';
    this.now = options.now ?? (() => new Date());
  }

  /** The payment rebuilt from its stream, or undefined when it has none. */
  async load(paymentId: string): Promise<Payment | undefined> {
    const runner = this.dataSource.createQueryRunner('slave');
    try {
      return await this.read(sqlOf(runner), paymentId);
    } finally {
      await runner.release();
    }
  }

  /**
   * Appends events after `expectedVersion` (0 for a new payment). Throws
   * PaymentVersionConflictError when the stream moved on, PaymentTransitionError when an event
   * does not fit; either way nothing is written.
   */
  async append(paymentId: string, expectedVersion: number, events: readonly PaymentEvent[], context: AppendContext = {}): Promise<Appended> {
    try {
      return await inTransaction(this.dataSource, (sql) => this.appendWith(sql, paymentId, expectedVersion, events, context));
    } catch (error) {
      throw this.asVersionConflict(error, paymentId, expectedVersion);
    }
  }

  /**
   * The same, inside the caller's transaction (an inbox handler, an intake that writes its
   * idempotency record with the payment). A lost race surfaces as the driver's key violation,
   * which aborts the caller's transaction: retry the whole of it.
   */
  async appendWith(sql: Sql, paymentId: string, expectedVersion: number, events: readonly PaymentEvent[], context: AppendContext = {}): Promise<Appended> {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    // Writers of one payment take its row first, always in this order (row, then events, then
    // the row's update): two appends queue instead of deadlocking on each other's locks.
    if (expectedVersion > 0) await sql.query('SELECT 1 FROM payments WHERE payment_id = $1 FOR UPDATE', [paymentId]);
    const current = await this.read(sql, paymentId);
    const actual = current?.version ?? 0;
    if (actual !== expectedVersion) throw new PaymentVersionConflictError(paymentId, expectedVersion, actual);

    // A payment's events share one correlation id unless told otherwise: the one of its request.
    const correlationId = context.correlationId ?? (current ? await this.correlationOf(sql, paymentId) : undefined) ?? randomUUID();
    const occurredAt = this.now();
    const envelopes: EventEnvelope[] = [];
    let payment = current;
    for (const [index, event] of events.entries()) {
      payment = payment ? payment.apply(event) : Payment.start(this.asFirst(paymentId, event));
      const sequence = expectedVersion + index + 1;
      const published = toPublishedEvent(event, payment.state);
      const envelope = createEvent({
        definition: published.definition,
        source: this.source,
        subject: paymentId,
        sequence,
        data: published.data,
        correlationId,
        ...(context.causationId ? { causationId: context.causationId } : {}),
        occurredAt,
      });
      const stored = encodePaymentEvent(event);
      await sql.query(
        `INSERT INTO payment_events (payment_id, sequence, event_id, type, data, correlation_id, causation_id, occurred_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)`,
        [paymentId, sequence, envelope.id, stored.type, JSON.stringify(stored.data), correlationId, context.causationId ?? null, occurredAt.toISOString()],
      );
      envelopes.push(envelope);
    }
    await appendToOutbox(
      sql,
      envelopes.map((envelope) => ({ topic: Topics.paymentEvents, envelope })),
    );
    const appended = { payment: payment as Payment, envelopes };
    await projectPaymentRow(sql, appended.payment.state, occurredAt);
    if (context.onAppended) await context.onAppended(sql, appended);
    return appended;
  }

  /**
   * Reads, decides and appends, again from a fresh read when a concurrent writer got in first.
   * `decide` returns the events to append (none: nothing to do) given the current payment.
   */
  async update(
    paymentId: string,
    decide: (payment: Payment | undefined) => readonly PaymentEvent[],
    context: AppendContext = {},
    maxAttempts = 3,
  ): Promise<Appended | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      const payment = await this.load(paymentId);
      const events = decide(payment);
      if (events.length === 0) return undefined;
      try {
        return await this.append(paymentId, payment?.version ?? 0, events, context);
      } catch (error) {
        if (!(error instanceof PaymentVersionConflictError) || attempt >= maxAttempts) throw error;
      }
    }
  }

  /** Reads a payment inside the caller's transaction. */
  loadWith(sql: Sql, paymentId: string): Promise<Payment | undefined> {
    return this.read(sql, paymentId);
  }

  private async correlationOf(sql: Sql, paymentId: string): Promise<string | undefined> {
    const [row] = await sql.query<{ correlation_id: string }>('SELECT correlation_id FROM payment_events WHERE payment_id = $1 AND sequence = 1', [paymentId]);
    return row?.correlation_id;
  }

  private asVersionConflict(error: unknown, paymentId: string, expectedVersion: number): unknown {
    // Two writers read the same version; the other one committed first.
    if (sqlStateOf(error) === UNIQUE_VIOLATION && constraintOf(error) === 'payment_events_pkey') {
      return new PaymentVersionConflictError(paymentId, expectedVersion, undefined);
    }
    return error;
  }

  private async read(sql: Sql, paymentId: string): Promise<Payment | undefined> {
    const rows = await sql.query<EventRow>('SELECT sequence, type, data FROM payment_events WHERE payment_id = $1 ORDER BY sequence', [paymentId]);
    if (rows.length === 0) return undefined;
    return Payment.rehydrate(rows.map((row) => decodePaymentEvent(paymentId, row.sequence, row.type, row.data)));
  }

  /** The first event of a stream must start it, for this very payment. */
  private asFirst(paymentId: string, event: PaymentEvent): PaymentInitiated {
    if (event.type !== 'PaymentInitiated') {
      throw new PaymentTransitionError('NOT_INITIATED', 'none', event.type, 'the first event of a payment must be PaymentInitiated');
    }
    if (event.paymentId !== paymentId) {
      throw new PaymentTransitionError('INVALID_INPUT', 'none', event.type, `the stream is payment ${paymentId}, the event starts payment ${event.paymentId}`);
    }
    return event;
  }
}
