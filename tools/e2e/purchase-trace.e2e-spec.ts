/**
 * One trace follows a purchase through every service (issue 8): the app's request, over HTTP or
 * Kafka, into payment-orchestration; the orchestration's PSP step, run later by its step worker
 * after the intake committed; its call to the wallet for the payment instrument; the wallet's
 * ledger posting of `payment.captured`; and the projections — history of the payment and of the
 * ledger transaction, ad signals of the payment facts. W3C context travels in HTTP and Kafka
 * headers, through the outbox and the step table.
 *
 * All four services run in this process on real PostgreSQL and Kafka, with one in-memory span
 * exporter; each service's spans come from a tracer named after it, and each consumer's span names
 * its consumer group.
 */
import { randomUUID } from 'node:crypto';
import type { Span } from '@opentelemetry/api';
import { context, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { Topics } from '@pay/contracts';
import { startTelemetry, traceHeaders, tracer } from '@pay/observability';
import { uniqueName, waitFor } from '@pay/testing';
import type { AggregationUnderTest } from '@pay/ad-signal-aggregation/testing';
import { startAggregation } from '@pay/ad-signal-aggregation/testing';
import type { HistoryUnderTest } from '@pay/history-projection/testing';
import { startHistory } from '@pay/history-projection/testing';
import type { PaymentsPlatform, TestPerson } from './e2e-kit';
import { http, purchaseOf, startGroupAtEnd, startPaymentsPlatform } from './e2e-kit';

// Before any service starts: they find this SDK running and use it (one tracer provider per process).
const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ service: 'purchase-trace-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });

let platform: PaymentsPlatform;
let history: HistoryUnderTest;
let ads: AggregationUnderTest;
const historyGroup = uniqueName('history-projection.e2e-trace');
const adsGroup = uniqueName('ad-signal-aggregation.e2e-trace');

beforeAll(async () => {
  platform = await startPaymentsPlatform();
  // The projections read the real topics, from where they end now: they see this run's events.
  for (const topic of [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]) await startGroupAtEnd(historyGroup, topic);
  for (const topic of [Topics.paymentEvents, Topics.walletEvents]) await startGroupAtEnd(adsGroup, topic);
  history = await startHistory({
    idp: platform.idp,
    topics: { payments: Topics.paymentEvents, ledger: Topics.ledgerTransactions, wallet: Topics.walletEvents },
    env: { HISTORY_CONSUMER_GROUP: historyGroup },
  });
  ads = await startAggregation({ payments: Topics.paymentEvents, wallet: Topics.walletEvents }, platform.idp, { AD_SIGNALS_CONSUMER_GROUP: adsGroup });
}, 180_000);

afterAll(async () => {
  await ads?.stop();
  await history?.stop();
  await platform?.stop();
  await telemetry.shutdown();
});

const id = (span: ReadableSpan): string => span.spanContext().spanId;
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const scopeOf = (span: ReadableSpan): string => span.instrumentationScope.name;

/** The finished spans of one trace. */
function traceSpans(traceId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
}

/** A consumer's span of one event type in one consumer group. */
function consumed(spans: ReadableSpan[], group: string, eventType: string): ReadableSpan | undefined {
  return spans.find(
    (span) => span.kind === SpanKind.CONSUMER && span.attributes['messaging.consumer.group.name'] === group && span.attributes['event.type'] === eventType,
  );
}

/** Waits until the trace holds the whole purchase path: the ledger posting projected by history, the capture counted by ad signals. */
async function wholePath(traceId: string): Promise<ReadableSpan[]> {
  return waitFor(
    () => traceSpans(traceId),
    (spans) =>
      consumed(spans, historyGroup, 'ledger.transaction.recorded') !== undefined &&
      consumed(spans, historyGroup, 'payments.payment.captured') !== undefined &&
      consumed(spans, adsGroup, 'payments.payment.captured') !== undefined &&
      consumed(spans, adsGroup, 'payments.payment.initiated') !== undefined,
    { what: 'the purchase path in one trace', timeoutMs: 90_000 },
  );
}

/** Every span hangs off another span of the same trace, up to the app's own span: one tree, no orphan. */
function expectOneTree(spans: ReadableSpan[], root: Span): void {
  const rootId = root.spanContext().spanId;
  const ids = new Set(spans.map(id));
  const orphans = spans.filter((span) => id(span) !== rootId && !ids.has(parentOf(span) ?? '')).map((span) => `${scopeOf(span)}: ${span.name}`);
  expect(ids.has(rootId)).toBe(true);
  expect(orphans).toEqual([]);
}

/** What both doors share after the intake: the PSP step, the wallet call, the ledger posting, the projections. */
function expectPathAfterIntake(spans: ReadableSpan[]): void {
  // The step's call to the wallet for the card's PSP token, served by the wallet in the same trace.
  const walletCallOf = (step: ReadableSpan) => {
    const call = spans.find((span) => span.kind === SpanKind.CLIENT && parentOf(span) === id(step));
    const served = call && spans.find((span) => span.kind === SpanKind.SERVER && scopeOf(span) === 'wallet' && parentOf(span) === id(call));
    return { call, served };
  };
  const attempts = spans.filter((span) => scopeOf(span) === 'payment-orchestration' && span.name === 'payment step authorize');
  // Every attempt asked the wallet in its trace (one request for the lookups issued together; an
  // attempt before the wallet read the payment's initiation got its item's 503 and was retried).
  for (const attempt of attempts) {
    const { call, served } = walletCallOf(attempt);
    expect(call?.attributes['url.path']).toBe('/v1/payment-instruments/releases');
    expect(served?.name).toBe('POST /v1/payment-instruments/releases');
    expect(served?.attributes['http.response.status_code']).toBe(200);
  }
  // payment.captured, written by the step that got the instrument, is posted to the ledger by the wallet...
  const posting = consumed(spans, platform.groups.walletPayments, 'payments.payment.captured');
  expect(posting).toBeDefined();
  const step = attempts.find((attempt) => id(attempt) === parentOf(posting!));
  expect(step).toBeDefined();
  // ...whose ledger event continues the posting's trace (not the trace of whoever began its group-committed batch)...
  const ledgerProjected = consumed(spans, historyGroup, 'ledger.transaction.recorded');
  expect(parentOf(ledgerProjected!)).toBe(id(posting!));
  // ...and the projections read the payment's events in the same trace.
  expect(parentOf(consumed(spans, historyGroup, 'payments.payment.captured')!)).toBe(id(step!));
  expect(parentOf(consumed(spans, adsGroup, 'payments.payment.captured')!)).toBe(id(step!));
}

describe('one trace follows a purchase across the services', () => {
  let person: TestPerson;

  beforeAll(async () => {
    person = await platform.person();
  });

  it('from the HTTP intake: orchestration, its PSP step, the wallet (instrument lookup, ledger posting), history and ad signals', async () => {
    const app = tracer('shop-service').startSpan('checkout', { kind: SpanKind.CLIENT });
    const traceId = app.spanContext().traceId;
    const answer = await http(
      `${platform.orchestrationUrl}/v1/payments`,
      'POST',
      await platform.serviceToken(),
      purchaseOf(person, 1_800n, { merchantCategory: '5651' }),
      { 'idempotency-key': randomUUID(), ...traceHeaders(trace.setSpan(context.active(), app)) },
    );
    app.end();
    expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 202, body: { paymentId: expect.any(String) } });
    const paymentId = answer.body.paymentId as string;
    await platform.events.waitFor(paymentId, 'payments.payment.captured');

    const spans = await wholePath(traceId);
    const intake = spans.find((span) => span.kind === SpanKind.SERVER && scopeOf(span) === 'payment-orchestration');
    expect(intake?.name).toBe('POST /v1/payments');
    expect(parentOf(intake!)).toBe(app.spanContext().spanId);
    expect(intake?.attributes['http.response.status_code']).toBe(answer.status);
    // payment.initiated is written by the request itself; the step continues the request's trace.
    expect(parentOf(consumed(spans, adsGroup, 'payments.payment.initiated')!)).toBe(id(intake!));
    expect(parentOf(spans.find((span) => span.name === 'payment step authorize')!)).toBe(id(intake!));
    expectPathAfterIntake(spans);
    expectOneTree(spans, app);
    // Nothing of another purchase leaks in: every consumed event of this trace is about this payment or its ledger entry.
    const subjects = new Set(spans.filter((span) => span.kind === SpanKind.CONSUMER).map((span) => span.attributes['messaging.destination.name']));
    expect([...subjects].sort()).toEqual([Topics.ledgerTransactions, Topics.paymentEvents].sort());
  });

  it('from the Kafka intake: the purchase request message carries the app trace, and the same path follows', async () => {
    const app = tracer('shop-service').startSpan('checkout', { kind: SpanKind.PRODUCER });
    const traceId = app.spanContext().traceId;
    const requestId = await platform.publishPurchase(purchaseOf(person, 2_300n), traceHeaders(trace.setSpan(context.active(), app)));
    app.end();
    const paymentId = await platform.paymentOf(requestId);
    await platform.events.waitFor(paymentId, 'payments.payment.captured');

    const spans = await wholePath(traceId);
    const intake = consumed(spans, `${platform.groups.orchestrationPrefix}.purchase-requests`, 'payments.purchase.requested');
    expect(intake).toBeDefined();
    expect(parentOf(intake!)).toBe(app.spanContext().spanId);
    expect(parentOf(spans.find((span) => span.name === 'payment step authorize')!)).toBe(id(intake!));
    expectPathAfterIntake(spans);
    expectOneTree(spans, app);
  });

  it('a message without trace headers starts a trace of its own at the intake, which the rest of the path still shares', async () => {
    const requestId = await platform.publishPurchase(purchaseOf(person, 900n));
    const paymentId = await platform.paymentOf(requestId);
    await platform.events.waitFor(paymentId, 'payments.payment.captured');
    const step = await waitFor(
      () => exporter.getFinishedSpans().find((span) => span.name === 'payment step authorize' && span.attributes['payment.id'] === paymentId),
      (span) => span !== undefined,
      { what: 'the PSP step of the untraced purchase' },
    );
    const intake = traceSpans(step!.spanContext().traceId).find((span) => span.attributes['event.type'] === 'payments.purchase.requested');
    expect(intake).toBeDefined();
    expect(parentOf(step!)).toBe(id(intake!));
    expect(intake!.parentSpanContext).toBeUndefined();
    const spans = await wholePath(intake!.spanContext().traceId);
    expectPathAfterIntake(spans);
  });
});
