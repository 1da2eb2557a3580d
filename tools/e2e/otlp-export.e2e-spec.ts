/**
 * A built service pushes its spans and metrics over OTLP/HTTP to the collector named by
 * OTEL_EXPORTER_OTLP_ENDPOINT, and sends what it still holds before it exits on SIGTERM.
 * The collector here is a plain HTTP server that keeps what it receives.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deadLetterTopicOf } from '@pay/contracts';
import type { StartedService } from '@pay/testing';
import {
  builtServiceEnv,
  builtServiceMain,
  createTestTopics,
  deleteTestTopics,
  dropSchema,
  startBuiltService,
  testDatabaseUrl,
  uniqueName,
} from '@pay/testing';

interface Received {
  path: string;
  contentType: string;
  body: Buffer;
}

function read(request: IncomingMessage): Promise<Buffer> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => done(Buffer.concat(chunks)));
    request.on('error', fail);
  });
}

describe('OTLP export of a running service', () => {
  const received: Received[] = [];
  let collector: Server;
  let service: StartedService | undefined;
  const schema = uniqueName('it_otlp_history');
  const name = (what: string): string => uniqueName(`it.otlp.${what}`).replace(/_/g, '-');
  const topics = { payments: name('payments'), ledger: name('ledger'), wallet: name('wallet') };

  beforeAll(async () => {
    builtServiceMain('history-projection');
    await createTestTopics(Object.values(topics), 1);
    await createTestTopics(Object.values(topics).map(deadLetterTopicOf), 1);
    collector = createServer((request, response) => {
      void read(request).then((body) => {
        received.push({ path: request.url ?? '', contentType: request.headers['content-type'] ?? '', body });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((done) => collector.listen(0, '127.0.0.1', done));
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await new Promise((done) => collector.close(done));
    await deleteTestTopics([...Object.values(topics), ...Object.values(topics).map(deadLetterTopicOf)]);
    await dropSchema(testDatabaseUrl(), schema);
  });

  it('pushes the spans of served requests (continuing the caller trace) and the request metrics, and flushes them on SIGTERM', async () => {
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    service = await startBuiltService('history-projection', {
      env: builtServiceEnv({
        DB_SCHEMA: schema,
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        HISTORY_CONSUMER_GROUP: uniqueName('history-projection.it-otlp'),
        HISTORY_PAYMENTS_TOPIC: topics.payments,
        HISTORY_LEDGER_TOPIC: topics.ledger,
        HISTORY_WALLET_TOPIC: topics.wallet,
      }),
    });

    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const answer = await fetch(`${service.url}/health/live`, { headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } });
    expect(answer.status).toBe(200);

    // Nothing forces an export before the signal: what arrives is what the shutdown flushed.
    expect((await service.stop('SIGTERM'))?.code).toBe(0);

    const traces = received.filter((r) => r.path === '/v1/traces');
    const metrics = received.filter((r) => r.path === '/v1/metrics');
    expect(traces.length).toBeGreaterThan(0);
    expect(metrics.length).toBeGreaterThan(0);
    const spans = traces.map((r) => r.body.toString('latin1')).join('\n');
    const pushedMetrics = metrics.map((r) => r.body.toString('latin1')).join('\n');
    // JSON or protobuf: the service's name, the span's name and ids are in the payload either way.
    expect(spans).toContain('history-projection');
    expect(spans).toContain('GET /health/live');
    const inPayload = (hex: string): boolean => spans.includes(hex) || traces.some((r) => r.body.includes(Buffer.from(hex, 'hex')));
    expect(inPayload(traceId)).toBe(true);
    expect(inPayload(callerSpanId)).toBe(true);
    expect(pushedMetrics).toContain('http.server.request.duration');
    expect(pushedMetrics).toContain('/health/live');
  });
});
