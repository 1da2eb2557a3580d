import { randomUUID } from 'node:crypto';
import type { EventEnvelope, ServiceName } from '@pay/contracts';
import { createEvent, Topics } from '@pay/contracts';
import type { GroupCommitOptions } from '@pay/messaging';
import { GroupCommit, outboxRowsOf, retrying } from '@pay/messaging';
import type { PaymentEvent, PaymentInitiated } from '@pay/payments-domain';
import { Payment, PaymentTransitionError } from '@pay/payments-domain';
import type { DataSource } from 'typeorm';
import type { NamedStatement, Sql } from '../../database/sql';
import type { StepScheduling } from '../../run-payment-steps/payment-steps';
import { constraintOf, inTransaction, onConnection, queryNamed, sqlStateOf, UNIQUE_VIOLATION } from '../../database/sql';
import type { StoredPaymentEvent } from './payment-event-codec';
import { decodePaymentEvent, encodePaymentEvent } from './payment-event-codec';
import { CommittedPaymentOutcomes, outcomesOf } from '../payment-outcomes';
import { toPublishedEvent } from './payment-event-contracts';
import { decodePaymentState, encodePaymentState } from './payment-state-codec';

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
  /** The request or event this change belongs to (the envelope's correlationId); the payment's own when absent. */
  readonly correlationId?: string;
  /** The event or command that caused it. */
  readonly causationId?: string;
  /**
   * Further writes that must commit with the events or not at all (an idempotency record, a
   * step to schedule, a command to the wallet, the webhook marked applied).
   */
  readonly onAppended?: (sql: Sql, appended: Appended) => Promise<void>;
  /** The payment's step this change completes: deleted by the same statement as the events are written. */
  readonly completesStep?: string;
  /** A new payment's first step, scheduled and announced by the statement that creates the payment (PaymentSteps.scheduling). */
  readonly firstStep?: StepScheduling;
  /** When the events occurred (the store's clock when absent): an answer written with them can name the same time. */
  readonly occurredAt?: Date;
}

export interface Appended {
  readonly payment: Payment;
  /** The envelopes written to the outbox, in stream order. */
  readonly envelopes: readonly EventEnvelope[];
}

/** A payment as its row keeps it: what an append after it needs besides the state. */
export interface StoredPayment {
  readonly payment: Payment;
  /** The correlation id of the payment's first event, shared by its later ones. */
  readonly correlationId: string;
  readonly createdAt: Date;
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

interface KeptRow {
  version: number;
  state: Record<string, unknown> | null;
  correlation_id: string | null;
  created_at: Date;
}

const READ_ROW: NamedStatement = {
  name: 'po_payment_row',
  text: 'SELECT version, state, correlation_id, created_at FROM payments WHERE payment_id = $1',
};

const READ_ROW_FOR_UPDATE: NamedStatement = { name: 'po_payment_row_for_update', text: `${READ_ROW.text} FOR UPDATE` };

const READ_STREAM: NamedStatement = {
  name: 'po_payment_stream',
  text: 'SELECT sequence, type, data FROM payment_events WHERE payment_id = $1 ORDER BY sequence',
};

/**
 * The outbox rows of the events, keyed by the payment of `source` (a CTE's one row): written only
 * when the payment's row is, in the events' order.
 */
const outboxedFrom = (source: string, topic: string, ids: string, payloads: string, headers: string): string =>
  `outboxed AS (
           INSERT INTO outbox (topic, message_key, event_id, payload, headers)
           SELECT ${topic}, ${source}.payment_id, o.event_id, o.payload, o.headers
             FROM ${source}, unnest(${ids}::uuid[], ${payloads}::jsonb[], ${headers}::jsonb[]) WITH ORDINALITY AS o(event_id, payload, headers, n)
            ORDER BY o.n)`;

/** The step the change completes, deleted when the payment's row is written. */
const completedFrom = (source: string, step: string): string =>
  `completed AS (DELETE FROM payment_steps s USING ${source} WHERE s.payment_id = ${source}.payment_id AND s.step = ${step})`;

/**
 * The webhooks of the payments `moved` wrote that waited for this news (PspWebhookInbox:
 * `awaiting_answer`, not due yet) and that it now reflects, marked applied (a CTE of the appends).
 */
const ABSORBED_BY_MOVED = `absorbed AS (
           UPDATE psp_webhook_events w SET applied_at = now(), outcome = 'unchanged', next_attempt_at = NULL
             FROM moved m
            WHERE w.payment_id = m.payment_id AND w.applied_at IS NULL AND w.outcome = 'awaiting_answer' AND w.next_attempt_at > now()
              AND w.unchanged_provider = m.provider AND w.unchanged_reference = m.reference
              AND m.status = ANY(w.unchanged_statuses) AND (w.unchanged_amount IS NULL OR m.amount = w.unchanged_amount)
              AND (w.unchanged_captured IS NULL OR m.captured_amount = w.unchanged_captured))`;

/**
 * The events and the row of a payment that exists, in one statement. The row is the gate: its
 * UPDATE runs first (the INSERT reads from it), only at the version the writer decided on, so of
 * two writers that read the same version the second waits for the first's row lock, then finds
 * the version moved and writes nothing; and writers of one payment always lock the row before
 * its events, so they queue instead of deadlocking. Webhooks of the payment recorded while it
 * waited for this news (PspWebhookInbox: `awaiting_answer`, not due yet) that it now reflects are
 * marked applied by the same statement; once due, the sweep applies them as any other.
 */
const APPEND_EVENTS: NamedStatement = {
  name: 'po_append_events',
  text: `WITH moved AS (
           UPDATE payments SET status = $2, provider = COALESCE($3, provider), reference = COALESCE($4, reference), pending_refunds = $5,
                  captured_amount = $6, version = $7, updated_at = $8, state = $9::jsonb, correlation_id = COALESCE(correlation_id, $10)
            WHERE payment_id = $1 AND version = $11
           RETURNING payment_id, status, provider, reference, amount, captured_amount),
         ${ABSORBED_BY_MOVED},
         ${outboxedFrom('moved', '$17', '$14', '$18', '$19')},
         ${completedFrom('moved', '$20')}
         INSERT INTO payment_events (payment_id, sequence, event_id, type, data, correlation_id, causation_id, occurred_at)
         SELECT moved.payment_id, e.sequence, e.event_id, e.type, e.data, $10, $12, $8
           FROM moved, unnest($13::int[], $14::uuid[], $15::text[], $16::jsonb[]) AS e(sequence, event_id, type, data)
         RETURNING sequence`,
};

const CREATED = `created AS (
           INSERT INTO payments (payment_id, status, provider, reference, pending_refunds, captured_amount, version, updated_at, state, correlation_id,
                                 created_at, request_id, kind, payer_id, counterparty_id, amount, currency)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $8, $11, $12, $13, $14, $15, $16)
           ON CONFLICT (payment_id) DO NOTHING
           RETURNING payment_id)`;

/** A new payment: its row and first events in one statement; a payment id already taken writes nothing. */
const START_STREAM: NamedStatement = {
  name: 'po_start_stream',
  text: `WITH ${CREATED},
         ${outboxedFrom('created', '$22', '$19', '$23', '$24')},
         ${completedFrom('created', '$25')}
         INSERT INTO payment_events (payment_id, sequence, event_id, type, data, correlation_id, causation_id, occurred_at)
         SELECT created.payment_id, e.sequence, e.event_id, e.type, e.data, $10, $17, $8
           FROM created, unnest($18::int[], $19::uuid[], $20::text[], $21::jsonb[]) AS e(sequence, event_id, type, data)
         RETURNING sequence`,
};

/**
 * A new payment as intake accepts it, in one statement: its row, first events and their outbox
 * rows (as START_STREAM), its first step scheduled and announced on commit (as
 * PaymentSteps.schedule).
 */
const START_ACCEPTED: NamedStatement = {
  name: 'po_start_accepted',
  text: `WITH ${CREATED},
         ${outboxedFrom('created', '$22', '$19', '$23', '$24')},
         ${completedFrom('created', '$25')},
         scheduled AS (
           INSERT INTO payment_steps (payment_id, step, due_at, trace_context)
           SELECT created.payment_id, $26, COALESCE($27::timestamptz, now()), $28::jsonb FROM created
           ON CONFLICT (payment_id, step) DO UPDATE SET due_at = LEAST(payment_steps.due_at, EXCLUDED.due_at)
           RETURNING 1),
         announced AS (SELECT count(pg_notify($29, $30)) AS n FROM scheduled)
         INSERT INTO payment_events (payment_id, sequence, event_id, type, data, correlation_id, causation_id, occurred_at)
         SELECT created.payment_id, e.sequence, e.event_id, e.type, e.data, $10, $17, $8
           FROM created, announced, unnest($18::int[], $19::uuid[], $20::text[], $21::jsonb[]) AS e(sequence, event_id, type, data)
         RETURNING sequence`,
};

/** APPEND_EVENTS_ALL's parameters for appends of distinct payments. */
function appendAllParameters(appends: readonly Planned[]): unknown[] {
  const events = appends.flatMap((append) => append.envelopes.map((envelope, at) => ({ append, envelope, at })));
  return [
    ...Array.from({ length: 10 }, (_, column) => appends.map((append) => append.row[column])),
    appends.map((append) => append.expectedVersion),
    appends.map((append) => append.streamed[0]),
    appends.map((append) => append.outboxed[3]),
    events.map(({ append }) => append.paymentId),
    events.map(({ envelope }) => envelope.sequence),
    events.map(({ envelope }) => envelope.id),
    events.map(({ append, at }) => append.stored[at].type),
    events.map(({ append, at }) => JSON.stringify(append.stored[at].data)),
    events.map(({ append, at }) => append.outbox[at].payload),
    events.map(({ append, at }) => append.outbox[at].headers),
    Topics.paymentEvents,
  ];
}

/** The leading parameters of START_STREAM / START_ACCEPTED that make the payment's row ($1-$16). */
const STARTED_ROW_COLUMNS = 16;

/**
 * New payments as intake accepts them together (PaymentEventStore.startAll), in one statement:
 * for each, what START_ACCEPTED writes for one — its row, its first event (PaymentInitiated) and
 * that event's outbox row, its first step scheduled and announced on commit. `$1-$16` are the
 * rows' columns as arrays (STARTED_ROW_COLUMNS), then the event, outbox and step of each.
 */
const START_ACCEPTED_ALL: NamedStatement = {
  name: 'po_start_accepted_all',
  text: `WITH p AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::int[], $8::timestamptz[], $9::jsonb[], $10::uuid[],
                                $11::uuid[], $12::text[], $13::text[], $14::text[], $15::bigint[], $16::text[],
                                $17::uuid[], $18::uuid[], $19::text[], $20::jsonb[], $21::jsonb[], $22::jsonb[], $23::text[], $24::timestamptz[], $25::jsonb[], $26::text[])
             WITH ORDINALITY AS p(payment_id, status, provider, reference, pending_refunds, captured_amount, version, occurred_at, state, correlation_id,
                                  request_id, kind, payer_id, counterparty_id, amount, currency,
                                  causation_id, event_id, type, data, payload, headers, step, due_at, trace_context, announcement, n)),
         created AS (
           INSERT INTO payments (payment_id, status, provider, reference, pending_refunds, captured_amount, version, updated_at, state, correlation_id,
                                 created_at, request_id, kind, payer_id, counterparty_id, amount, currency)
           SELECT payment_id, status, provider, reference, pending_refunds, captured_amount, version, occurred_at, state, correlation_id,
                  occurred_at, request_id, kind, payer_id, counterparty_id, amount, currency
             FROM p ORDER BY n
           ON CONFLICT (payment_id) DO NOTHING
           RETURNING payment_id),
         outboxed AS (
           INSERT INTO outbox (topic, message_key, event_id, payload, headers)
           SELECT $27, p.payment_id, p.event_id, p.payload, p.headers FROM p JOIN created c USING (payment_id) ORDER BY p.n),
         scheduled AS (
           INSERT INTO payment_steps (payment_id, step, due_at, trace_context)
           SELECT p.payment_id, p.step, COALESCE(p.due_at, now()), p.trace_context FROM p JOIN created c USING (payment_id) ORDER BY p.n
           ON CONFLICT (payment_id, step) DO UPDATE SET due_at = LEAST(payment_steps.due_at, EXCLUDED.due_at)
           RETURNING payment_id),
         announced AS (SELECT count(pg_notify($28, p.announcement)) AS n FROM p JOIN scheduled s USING (payment_id))
         INSERT INTO payment_events (payment_id, sequence, event_id, type, data, correlation_id, causation_id, occurred_at)
         SELECT p.payment_id, 1, p.event_id, p.type, p.data, p.correlation_id, p.causation_id, p.occurred_at
           FROM p JOIN created c USING (payment_id), announced
          ORDER BY p.n
         RETURNING payment_id`,
};

/**
 * Appends after payments as they were read (PaymentEventStore.appendSoon), several payments in one
 * statement: for each payment ($1-$13, one element each) what APPEND_EVENTS writes for one — its
 * row moved only at the version its writer read, the webhooks its news absorbs, its events
 * ($14-$20, one element per event) and their outbox rows, the step it completes. A payment whose
 * version moved writes nothing; the others are written. Each payment appears once.
 */
const APPEND_EVENTS_ALL: NamedStatement = {
  name: 'po_append_events_all',
  // Run on its own: planned once per connection, sent with its BEGIN and COMMIT (NamedStatement.plans).
  plans: 'generic',
  text: `WITH p AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::int[], $8::timestamptz[], $9::jsonb[], $10::uuid[],
                                $11::int[], $12::uuid[], $13::text[])
             AS p(payment_id, status, provider, reference, pending_refunds, captured_amount, version, occurred_at, state, correlation_id,
                  expected_version, causation_id, completes_step)),
         moved AS (
           UPDATE payments t SET status = p.status, provider = COALESCE(p.provider, t.provider), reference = COALESCE(p.reference, t.reference),
                  pending_refunds = p.pending_refunds, captured_amount = p.captured_amount, version = p.version, updated_at = p.occurred_at,
                  state = p.state, correlation_id = COALESCE(t.correlation_id, p.correlation_id)
             FROM p
            WHERE t.payment_id = p.payment_id AND t.version = p.expected_version
           RETURNING t.payment_id, t.status, t.provider, t.reference, t.amount, t.captured_amount),
         ${ABSORBED_BY_MOVED},
         e AS (
           SELECT * FROM unnest($14::text[], $15::int[], $16::uuid[], $17::text[], $18::jsonb[], $19::jsonb[], $20::jsonb[])
             WITH ORDINALITY AS e(payment_id, sequence, event_id, type, data, payload, headers, n)),
         outboxed AS (
           INSERT INTO outbox (topic, message_key, event_id, payload, headers)
           SELECT $21, e.payment_id, e.event_id, e.payload, e.headers FROM e JOIN moved USING (payment_id) ORDER BY e.n),
         completed AS (
           DELETE FROM payment_steps s USING moved m, p
            WHERE p.payment_id = m.payment_id AND s.payment_id = m.payment_id AND s.step = p.completes_step)
         INSERT INTO payment_events (payment_id, sequence, event_id, type, data, correlation_id, causation_id, occurred_at)
         SELECT e.payment_id, e.sequence, e.event_id, e.type, e.data, p.correlation_id, p.causation_id, p.occurred_at
           FROM e JOIN moved USING (payment_id) JOIN p USING (payment_id)
          ORDER BY e.n
         RETURNING payment_id`,
};

/** How appendSoon groups: what arrives while a statement runs forms the next one (no wait when alone). */
const APPEND_BATCHING: GroupCommitOptions = { maxBatchSize: 100, maxWaitMs: 0, maxConcurrentBatches: 2 };

/** An append worked out (PaymentEventStore.plan): the payment after it, what is published, and the statement's parameters. */
interface Planned {
  readonly paymentId: string;
  readonly expectedVersion: number;
  readonly payment: Payment;
  readonly events: readonly PaymentEvent[];
  readonly envelopes: readonly EventEnvelope[];
  readonly stored: readonly StoredPaymentEvent[];
  readonly outbox: readonly { readonly payload: string; readonly headers: string }[];
  readonly row: readonly unknown[];
  readonly streamed: readonly unknown[];
  readonly outboxed: readonly unknown[];
  /** START_STREAM's parameters: the row ($1-$16), the stream, the outbox rows. */
  readonly started: readonly unknown[];
}

/** A new payment made ready for PaymentEventStore.startAll (planStart). */
export interface PlannedStart extends Planned {
  readonly firstStep: StepScheduling;
}

/**
 * The payments' event streams in PostgreSQL, with each payment's current state kept in its row
 * (`payments`) by the same transaction as every append, so readers load one row instead of
 * replaying the stream. An append applies the new events to the aggregate (so the table never
 * holds a history the state machine would refuse), inserts them and updates the row in one
 * statement, and puts their `payments.events.v1` envelopes in the outbox — published if and only
 * if the append commits. A concurrent append at the same version finds the row's version moved.
 * The stream stays the source of truth: `replay` rebuilds a payment from it.
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
    // payments_outcomes_total counts what an append reached once its transaction commits.
    CommittedPaymentOutcomes.watch(dataSource);
  }

  /**
   * The id of the payment a purchase request created, only when `payerId` is that payment's payer:
   * a request id alone (it travels in events and logs) does not open a payment to any caller.
   */
  async paymentIdOfRequest(requestId: string, payerId: string): Promise<string | undefined> {
    const rows = await onConnection(this.dataSource, (sql) =>
      sql.query<{ payment_id: string }>('SELECT payment_id FROM payments WHERE request_id = $1 AND payer_id = $2', [requestId, payerId]),
    );
    return rows[0]?.payment_id;
  }

  /** The payment as its row keeps it, or undefined when it has none. */
  async load(paymentId: string): Promise<Payment | undefined> {
    return (await this.loadStored(paymentId))?.payment;
  }

  /**
   * The payment with what appending after it needs (in the caller's transaction when given one;
   * `forUpdate`: its row stays locked to the end of it, so writers of the payment queue behind).
   */
  async loadStored(paymentId: string, sql?: Sql, forUpdate = false): Promise<StoredPayment | undefined> {
    return sql ? this.read(sql, paymentId, forUpdate) : onConnection(this.dataSource, (own) => this.read(own, paymentId));
  }

  /** Reads a payment inside the caller's transaction. */
  async loadWith(sql: Sql, paymentId: string): Promise<Payment | undefined> {
    return (await this.read(sql, paymentId))?.payment;
  }

  /**
   * The payment from its row as another statement read it (a step's claim, as JSON); undefined
   * when the row keeps no state yet (load it then).
   */
  restoreKept(kept: unknown): StoredPayment | undefined {
    const row = kept as { version?: unknown; state?: Record<string, unknown> | null; correlation_id?: string | null; created_at?: string } | null;
    if (!row?.state || !row.correlation_id || !row.created_at) return undefined;
    return { payment: Payment.restore(decodePaymentState(row.state)), correlationId: row.correlation_id, createdAt: new Date(row.created_at) };
  }

  /** The payment rebuilt from its whole stream, the source of truth (the row must agree with it). */
  async replay(paymentId: string): Promise<Payment | undefined> {
    return onConnection(this.dataSource, (sql) => this.replayWith(sql, paymentId));
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
   * idempotency record with the payment). A lost race throws PaymentVersionConflictError (or the
   * driver's key violation), which must abort the caller's transaction: retry the whole of it.
   */
  async appendWith(sql: Sql, paymentId: string, expectedVersion: number, events: readonly PaymentEvent[], context: AppendContext = {}): Promise<Appended> {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const current = expectedVersion > 0 ? await this.read(sql, paymentId) : undefined;
    const actual = current?.payment.version ?? 0;
    if (actual !== expectedVersion) throw new PaymentVersionConflictError(paymentId, expectedVersion, actual);
    return this.appendAfter(sql, paymentId, current, events, context);
  }

  /**
   * Appends after a payment as it was read (`undefined`: a new payment), in the caller's
   * transaction, without reading it again: the row's version check decides whether it still is.
   */
  async appendAfter(
    sql: Sql,
    paymentId: string,
    current: StoredPayment | undefined,
    events: readonly PaymentEvent[],
    context: AppendContext = {},
  ): Promise<Appended> {
    const planned = this.plan(paymentId, current, events, context);
    const { row, streamed, outboxed, started, expectedVersion } = planned;
    const { firstStep } = context;
    let written: unknown[];
    if (current) written = await queryNamed(sql, APPEND_EVENTS, [...row, expectedVersion, ...streamed, ...outboxed]);
    else if (!firstStep) written = await queryNamed(sql, START_STREAM, started);
    else {
      written = await queryNamed(sql, START_ACCEPTED, [
        ...started,
        firstStep.step,
        firstStep.dueAt,
        firstStep.traceContext,
        firstStep.channel,
        firstStep.announcement,
      ]);
    }
    if (written.length !== events.length) throw new PaymentVersionConflictError(paymentId, expectedVersion, undefined);
    const appended = { payment: planned.payment, envelopes: planned.envelopes };
    CommittedPaymentOutcomes.record(sql, outcomesOf(events, planned.payment.state));
    if (context.onAppended) await context.onAppended(sql, appended);
    return appended;
  }

  /**
   * A new payment as intake accepts it (its PaymentInitiated and first step), made ready for
   * `startAll`: the envelope and its outbox row are built here, so call it in the trace context of
   * whatever accepted the payment (the outbox row keeps that trace).
   */
  planStart(initiated: PaymentInitiated, context: AppendContext & { readonly firstStep: StepScheduling }): PlannedStart {
    return { ...this.plan(initiated.paymentId, undefined, [initiated], context), firstStep: context.firstStep };
  }

  /**
   * New payments accepted together (an intake chunk), in one statement: each one's row, first
   * event and its outbox row, and its first step scheduled and announced on commit — what
   * START_ACCEPTED writes for one. A payment id already taken fails the whole statement's check
   * (PaymentVersionConflictError): ids are fresh UUIDs, so that is a bug, and the caller's
   * transaction must roll back.
   */
  async startAll(sql: Sql, starts: readonly PlannedStart[]): Promise<Appended[]> {
    if (starts.length === 0) return [];
    const column = (at: number): unknown[] => starts.map((start) => start.started[at]);
    const first = starts[0];
    const written = await queryNamed<{ payment_id: string }>(sql, START_ACCEPTED_ALL, [
      ...Array.from({ length: STARTED_ROW_COLUMNS }, (_, at) => column(at)),
      starts.map((start) => start.streamed[0]),
      starts.map((start) => start.envelopes[0].id),
      starts.map((start) => start.stored[0].type),
      starts.map((start) => JSON.stringify(start.stored[0].data)),
      starts.map((start) => start.outbox[0].payload),
      starts.map((start) => start.outbox[0].headers),
      starts.map((start) => start.firstStep.step),
      starts.map((start) => start.firstStep.dueAt),
      starts.map((start) => start.firstStep.traceContext),
      starts.map((start) => start.firstStep.announcement),
      Topics.paymentEvents,
      first.firstStep.channel,
    ]);
    if (written.length !== starts.length) {
      const missing = starts.find((start) => !written.some((row) => row.payment_id === start.paymentId));
      throw new PaymentVersionConflictError(missing?.paymentId ?? first.paymentId, 0, undefined);
    }
    for (const start of starts) CommittedPaymentOutcomes.record(sql, outcomesOf(start.events, start.payment.state));
    return starts.map((start) => ({ payment: start.payment, envelopes: start.envelopes }));
  }

  /**
   * An autocommitted append after a payment as it was read (an `authorize` step's answer), grouped
   * with the appends that arrive meanwhile: one statement for all (APPEND_EVENTS_ALL). Each append
   * settles on its own: a payment whose version moved rejects with PaymentVersionConflictError (and
   * writes nothing), the others are written. The envelopes are built here, in the caller's trace
   * context. `context`: the correlation and causation, the time, the step it completes.
   */
  async appendSoon(
    paymentId: string,
    current: StoredPayment,
    events: readonly PaymentEvent[],
    context: Pick<AppendContext, 'correlationId' | 'causationId' | 'occurredAt' | 'completesStep'> = {},
  ): Promise<Appended> {
    return this.appender.submit(this.plan(paymentId, current, events, context));
  }

  private readonly appender = new GroupCommit<Planned, Appended>((planned) => this.appendAll(planned), APPEND_BATCHING);
  /** Statements appendSoon ran (APPEND_EVENTS_ALL), for tests. */
  groupedAppendStatements = 0;

  /** A group of appendSoon's, each payment once a statement (a second append of one waits for the next). */
  private async appendAll(planned: readonly Planned[]): Promise<PromiseSettledResult<Appended>[]> {
    const results: PromiseSettledResult<Appended>[] = [];
    let rest = planned.map((append, at) => ({ append, at }));
    while (rest.length > 0) {
      const seen = new Set<string>();
      const now = rest.filter(({ append }) => !seen.has(append.paymentId) && seen.add(append.paymentId));
      rest = rest.filter((entry) => !now.includes(entry));
      let written: { payment_id: string }[];
      try {
        this.groupedAppendStatements += 1;
        written = await onConnection(this.dataSource, (sql) =>
          queryNamed<{ payment_id: string }>(sql, APPEND_EVENTS_ALL, appendAllParameters(now.map(({ append }) => append))),
        );
      } catch {
        // One append the statement refuses (a constraint) must not fail the others: each alone, as appendAfter writes it.
        for (const { append, at } of now) {
          results[at] = await this.appendAlone(append).then(
            (value) => ({ status: 'fulfilled', value }) as const,
            (reason: unknown) => ({ status: 'rejected', reason }) as const,
          );
        }
        continue;
      }
      const rows = new Map<string, number>();
      for (const row of written) rows.set(row.payment_id, (rows.get(row.payment_id) ?? 0) + 1);
      for (const { append, at } of now) {
        if (rows.get(append.paymentId) === append.events.length) {
          CommittedPaymentOutcomes.count(outcomesOf(append.events, append.payment.state));
          results[at] = { status: 'fulfilled', value: { payment: append.payment, envelopes: append.envelopes } };
        } else {
          results[at] = { status: 'rejected', reason: new PaymentVersionConflictError(append.paymentId, append.expectedVersion, undefined) };
        }
      }
    }
    return results;
  }

  /** One planned append in a statement of its own (APPEND_EVENTS), autocommitted. */
  private async appendAlone(append: Planned): Promise<Appended> {
    try {
      const written = await onConnection(this.dataSource, (sql) =>
        queryNamed(sql, APPEND_EVENTS, [...append.row, append.expectedVersion, ...append.streamed, ...append.outboxed]),
      );
      if (written.length !== append.events.length) throw new PaymentVersionConflictError(append.paymentId, append.expectedVersion, undefined);
    } catch (error) {
      throw this.asVersionConflict(error, append.paymentId, append.expectedVersion);
    }
    CommittedPaymentOutcomes.count(outcomesOf(append.events, append.payment.state));
    return { payment: append.payment, envelopes: append.envelopes };
  }

  /** The events applied to the payment, their envelopes and outbox rows, and the statement parameters of an append. */
  private plan(paymentId: string, current: StoredPayment | undefined, events: readonly PaymentEvent[], context: AppendContext): Planned {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const expectedVersion = current?.payment.version ?? 0;
    // A payment's events share one correlation id unless told otherwise: the one of its request.
    const correlationId = context.correlationId ?? current?.correlationId ?? randomUUID();
    const occurredAt = context.occurredAt ?? this.now();
    if (current && context.firstStep) throw new RangeError(`payment ${paymentId} exists: a first step goes with its first events only`);
    const envelopes: EventEnvelope[] = [];
    const stored: StoredPaymentEvent[] = [];
    let payment = current?.payment;
    for (const [index, event] of events.entries()) {
      payment = payment ? payment.apply(event) : Payment.start(this.asFirst(paymentId, event));
      const published = toPublishedEvent(event, payment.state);
      envelopes.push(
        createEvent({
          definition: published.definition,
          source: this.source,
          subject: paymentId,
          sequence: expectedVersion + index + 1,
          data: published.data,
          correlationId,
          ...(context.causationId ? { causationId: context.causationId } : {}),
          occurredAt,
        }),
      );
      stored.push(encodePaymentEvent(event));
    }
    const state = (payment as Payment).state;
    const row = [
      paymentId,
      state.status,
      state.provider ?? null,
      state.reference ?? null,
      state.refunds.filter((refund) => refund.status === 'pending').length,
      state.capturedAmount.toString(),
      state.version,
      occurredAt.toISOString(),
      encodePaymentState(state),
      correlationId,
    ];
    const streamed = [
      context.causationId ?? null,
      envelopes.map((envelope) => envelope.sequence),
      envelopes.map((envelope) => envelope.id),
      stored.map((event) => event.type),
      stored.map((event) => JSON.stringify(event.data)),
    ];
    // Their outbox rows go in with them (the same statement): published if and only if they commit.
    const outbox = outboxRowsOf(envelopes.map((envelope) => ({ topic: Topics.paymentEvents, envelope })));
    const outboxed = [Topics.paymentEvents, outbox.map((row) => row.payload), outbox.map((row) => row.headers), context.completesStep ?? null];
    const started = [
      ...row,
      state.requestId,
      state.kind,
      state.payerId,
      state.counterparty.id,
      state.amount.toString(),
      state.currency,
      ...streamed,
      ...outboxed,
    ];
    return { paymentId, expectedVersion, payment: payment as Payment, events, envelopes, stored, outbox, row, streamed, outboxed, started };
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
    first?: StoredPayment,
  ): Promise<Appended | undefined> {
    let known = first;
    return retrying({ maxAttempts, retryOn: (error) => error instanceof PaymentVersionConflictError }, async () => {
      const current = known ?? (await this.loadStored(paymentId));
      known = undefined;
      const events = decide(current?.payment);
      if (events.length === 0) return undefined;
      try {
        return await inTransaction(this.dataSource, (sql) => this.appendAfter(sql, paymentId, current, events, context));
      } catch (error) {
        throw this.asVersionConflict(error, paymentId, current?.payment.version ?? 0);
      }
    });
  }

  private asVersionConflict(error: unknown, paymentId: string, expectedVersion: number): unknown {
    // Two writers read the same version; the other one committed first.
    if (sqlStateOf(error) === UNIQUE_VIOLATION && constraintOf(error) === 'payment_events_pkey') {
      return new PaymentVersionConflictError(paymentId, expectedVersion, undefined);
    }
    return error;
  }

  private async read(sql: Sql, paymentId: string, forUpdate = false): Promise<StoredPayment | undefined> {
    const [row] = await queryNamed<KeptRow>(sql, forUpdate ? READ_ROW_FOR_UPDATE : READ_ROW, [paymentId]);
    if (!row) return undefined;
    // Rows written before the state was kept: the stream answers until the next append keeps it.
    const payment = row.state ? Payment.restore(decodePaymentState(row.state)) : await this.replayWith(sql, paymentId);
    if (!payment) return undefined;
    const correlationId = row.correlation_id ?? randomUUID();
    return { payment, correlationId, createdAt: row.created_at };
  }

  private async replayWith(sql: Sql, paymentId: string): Promise<Payment | undefined> {
    const rows = await queryNamed<EventRow>(sql, READ_STREAM, [paymentId]);
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
