/**
 * The metrics operators alert on, read from the services' /metrics while real payments run
 * (wallet, orchestration and the PSP simulator in this process, real PostgreSQL and Kafka):
 * a captured purchase shows as a PSP call that succeeded and a journal entry the wallet
 * appended; a decline, a timeout and a PSP 5xx show as PSP errors of their own class.
 *
 * Last, what the Grafana dashboards query (deploy/grafana/dashboards) is checked against what the
 * running services serve on /metrics: every metric, and every label value a panel selects.
 *
 * The OpenTelemetry MeterProvider is one per process, so the tests compare counters before and
 * after each payment rather than expecting absolute values.
 */
import { randomUUID } from 'node:crypto';
import type { PrometheusSample } from '@pay/testing';
import { Topics } from '@pay/contracts';
import { parsePrometheusText, prometheusValue, scrapeMetrics, waitFor } from '@pay/testing';
import { dashboardQueries, metricsOf, SCRAPE_LABELS, selectorsOf } from '../promql';
import type { PaymentsPlatform } from './e2e-kit';
import { http, purchaseOf, startPaymentsPlatform } from './e2e-kit';

let platform: PaymentsPlatform;

beforeAll(async () => {
  platform = await startPaymentsPlatform();
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

const CREATE = { provider: 'stripe', operation: 'create_payment' };

async function orchestrationValue(name: string, labels: Record<string, string>): Promise<number> {
  return prometheusValue(await scrapeMetrics(platform.orchestrationUrl), name, labels);
}

async function walletValue(name: string, labels: Record<string, string>): Promise<number> {
  return prometheusValue(await scrapeMetrics(platform.wallet.url), name, labels);
}

async function capturePosted(paymentId: string): Promise<void> {
  await waitFor(
    () => platform.walletQuery("SELECT transaction_id FROM payment_ledger_postings WHERE payment_id = $1 AND movement = 'capture'", [paymentId]),
    (rows) => rows.length === 1,
    { what: `the capture posting of ${paymentId}` },
  );
}

it('a captured purchase: a PSP call that succeeded (latency recorded) and a transfer appended to the ledger', async () => {
  const ana = await platform.person();
  const succeededBefore = await orchestrationValue('psp_client_request_duration_count', { ...CREATE, outcome: 'succeeded' });
  const appendedBefore = await walletValue('ledger_journal_entries_total', { kind: 'transfer', outcome: 'appended' });
  const batchesBefore = await walletValue('ledger_batch_size_count', {});

  const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf(ana, 2_000n)));
  await platform.events.waitFor(paymentId, 'payments.payment.captured');
  await capturePosted(paymentId);

  expect(await orchestrationValue('psp_client_request_duration_count', { ...CREATE, outcome: 'succeeded' })).toBeGreaterThanOrEqual(succeededBefore + 1);
  expect(await orchestrationValue('psp_client_request_duration_bucket', { ...CREATE, outcome: 'succeeded', le: '+Inf' })).toBeGreaterThanOrEqual(
    succeededBefore + 1,
  );
  expect(await walletValue('ledger_journal_entries_total', { kind: 'transfer', outcome: 'appended' })).toBeGreaterThanOrEqual(appendedBefore + 1);
  expect(await walletValue('ledger_batch_size_count', {})).toBeGreaterThan(batchesBefore);
  expect(await walletValue('ledger_batch_duration_count', {})).toBeGreaterThan(0);
});

it('a decline is counted as error_class="decline", apart from the technical errors', async () => {
  const bob = await platform.person({ cardBehavesLike: 'pm_card_chargeDeclined' });
  const declinesBefore = await orchestrationValue('psp_client_errors_total', { ...CREATE, error_class: 'decline' });
  const technicalBefore = await technicalErrors();

  const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf(bob, 1_500n)));
  await platform.events.waitFor(paymentId, 'payments.payment.failed');

  expect(await orchestrationValue('psp_client_errors_total', { ...CREATE, error_class: 'decline' })).toBe(declinesBefore + 1);
  expect(await orchestrationValue('psp_client_request_duration_count', { ...CREATE, outcome: 'decline' })).toBeGreaterThanOrEqual(1);
  expect(await technicalErrors()).toBe(technicalBefore);
});

it('a PSP timeout is counted as error_class="network" (never a decline); the retry with the same key captures', async () => {
  const cleo = await platform.person({ cardBehavesLike: 'pm_card_timeout' });
  const networkBefore = await orchestrationValue('psp_client_errors_total', { ...CREATE, error_class: 'network' });
  const declinesBefore = await orchestrationValue('psp_client_errors_total', { error_class: 'decline' });

  const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf(cleo, 3_000n)));
  await platform.events.waitFor(paymentId, 'payments.payment.captured');
  await waitFor(
    () => orchestrationValue('psp_client_errors_total', { ...CREATE, error_class: 'network' }),
    (n) => n >= networkBefore + 1,
    { what: 'the timeout counted' },
  );

  expect(await orchestrationValue('psp_client_errors_total', { error_class: 'decline' })).toBe(declinesBefore);
});

it('a PSP 5xx is counted as error_class="server_error"; the retried call succeeds', async () => {
  const dan = await platform.person();
  const serverErrorsBefore = await orchestrationValue('psp_client_errors_total', { ...CREATE, error_class: 'server_error' });
  platform.simulator.injectFault({ method: 'POST', path: '/v1/payment_intents', effect: { type: 'error', status: 500 } });

  const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf(dan, 2_500n)));
  await platform.events.waitFor(paymentId, 'payments.payment.captured');

  expect(await orchestrationValue('psp_client_errors_total', { ...CREATE, error_class: 'server_error' })).toBe(serverErrorsBefore + 1);
  expect(await orchestrationValue('psp_client_request_duration_count', { ...CREATE, outcome: 'server_error' })).toBeGreaterThanOrEqual(1);
});

/**
 * Metrics a service exports only while something happens that this file does not cause; each is
 * read from a real Prometheus serialization in the test named.
 */
const ONLY_WHEN: Record<string, string> = {
  messaging_consumer_blocked: 'while a message waits for an unavailable dependency (libs/messaging/src/inbox/inbox-consumer.heartbeat-and-trace.int-spec.ts)',
};

it('every metric and label value a Grafana dashboard panel selects is on the running services’ /metrics (not only named in their source)', async () => {
  // After the payments above (a capture, a decline, a PSP timeout and 5xx), one purchase over HTTP: the intake panel reads POST /v1/payments.
  const eve = await platform.person();
  const answer = await http<{ paymentId: string }>(
    `${platform.orchestrationUrl}/v1/payments`,
    'POST',
    await platform.serviceToken('service', 'instagram'),
    purchaseOf(eve, 1_000n),
    { 'idempotency-key': randomUUID() },
  );
  expect(answer.status).toBe(202);
  await platform.events.waitFor(answer.body.paymentId, 'payments.payment.captured');
  await capturePosted(answer.body.paymentId);

  const samples: PrometheusSample[] = [
    ...parsePrometheusText(await scrapeMetrics(platform.orchestrationUrl)),
    ...parsePrometheusText(await scrapeMetrics(platform.wallet.url)),
  ];
  // This run's purchase requests come on a topic of its own, where production's is payments.purchase-requests.v1.
  const runValue = (value: string): string => (value === Topics.purchaseRequests ? platform.purchaseTopic : value);
  const served = (metric: string, label?: { label: string; op: '=' | '=~'; value: string }): boolean =>
    samples.some(
      (sample) =>
        sample.name === metric &&
        (label === undefined ||
          (label.op === '='
            ? sample.labels[label.label] === runValue(label.value)
            : new RegExp(`^(?:${label.value})$`).test(sample.labels[label.label] ?? ''))),
    );
  const queries = dashboardQueries();
  expect(queries.length).toBeGreaterThan(0);
  const missing = queries.flatMap(({ where, expr }) => [
    // `up` is Prometheus' own, of the scrape.
    ...metricsOf(expr)
      .filter((metric) => metric !== 'up' && !(metric in ONLY_WHEN) && !served(metric))
      .map((metric) => `${where}: ${metric}`),
    ...selectorsOf(expr).flatMap(({ metric, matchers }) =>
      matchers
        .filter((matcher) => !SCRAPE_LABELS.has(matcher.label) && !served(metric, matcher))
        .map((matcher) => `${where}: ${metric}{${matcher.label}${matcher.op}"${matcher.value}"}`),
    ),
  ]);
  expect(missing).toEqual([]);
});

/** PSP errors that are incidents, not business outcomes: what the PspTechnicalErrors alert sums. */
async function technicalErrors(): Promise<number> {
  const text = await scrapeMetrics(platform.orchestrationUrl);
  return prometheusValue(text, 'psp_client_errors_total') - prometheusValue(text, 'psp_client_errors_total', { error_class: 'decline' });
}
