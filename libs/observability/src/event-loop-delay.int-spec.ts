/**
 * The event loop's delay (observeEventLoopDelay) as Prometheus scrapes it: over HTTP from the
 * exporter a service mounts at /metrics, each scrape covering the time since the previous one,
 * while the OTLP reader (a service with OTEL_EXPORTER_OTLP_ENDPOINT) collects every 100 ms: its
 * reads must not take the scrapes' intervals. (Under Jest its export then fails, kept from the
 * dynamic import it needs; the collection, which is what matters here, has run. The OTLP export
 * itself is tested end to end: tools/e2e/otlp-export.e2e-spec.ts.)
 */
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePrometheusText, scrapeMetrics } from '@pay/testing';
import { observeEventLoopDelay } from './event-loop-delay';
import type { Telemetry } from './telemetry';
import { startTelemetry } from './telemetry';

let telemetry: Telemetry;
let server: Server;
let url: string;

/** The three series of one scrape, in seconds. */
async function scrape(): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const sample of parsePrometheusText(await scrapeMetrics(url))) {
    if (sample.name.startsWith('nodejs_eventloop_delay_')) found[sample.name] = sample.value;
  }
  return found;
}

function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer can run
  }
}

beforeAll(async () => {
  server = createServer((request, response) => telemetry.prometheus.getMetricsRequestHandler(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  telemetry = startTelemetry({ service: 'event-loop-delay-test', otlpEndpoint: url, metricExportIntervalMs: 100 });
  observeEventLoopDelay();
});

afterAll(async () => {
  await telemetry.shutdown();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('shows a 200 ms stall in the scrape after it (p50, p99, max in seconds), and not in the scrape after that', async () => {
  await sleep(100);
  await scrape();
  await sleep(60);
  blockEventLoop(200);
  // Long enough for OTLP collections in between, which read the event loop's delay for their own reader.
  await sleep(250);
  const stalled = await scrape();
  expect(Object.keys(stalled).sort()).toEqual(['nodejs_eventloop_delay_max', 'nodejs_eventloop_delay_p50', 'nodejs_eventloop_delay_p99']);
  expect(stalled.nodejs_eventloop_delay_max).toBeGreaterThanOrEqual(0.15);
  // Some twenty 20 ms samples, one of them the stall: the 99th percentile is the stall, the median is not.
  expect(stalled.nodejs_eventloop_delay_p99).toBeGreaterThanOrEqual(0.15);
  expect(stalled.nodejs_eventloop_delay_p50).toBeLessThan(0.1);

  await sleep(300);
  const calm = await scrape();
  expect(calm.nodejs_eventloop_delay_max).toBeLessThan(0.1);
  expect(calm.nodejs_eventloop_delay_p50).toBeGreaterThan(0);
});
