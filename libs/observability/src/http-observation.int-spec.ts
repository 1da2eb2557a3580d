/**
 * tracedRequest against a real HTTP server on loopback: the caller's trace continues in the
 * request's headers, connections are kept open between requests, and an answer too long or too
 * late is refused.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { startTelemetry, tracer } from './telemetry';
import { tracedRequest } from './http-observation';

const telemetry = startTelemetry({ service: 'http-observation-test' });

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  remotePort: number;
}

describe('tracedRequest', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  let answer: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ kind: 'card' }));
  };

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString(),
          remotePort: request.socket.remotePort ?? 0,
        });
        answer(request, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await telemetry.shutdown();
  });

  beforeEach(() => {
    seen.length = 0;
  });

  it("answers the status and body, and carries the caller's trace and headers", async () => {
    const span = tracer('test').startSpan('caller');
    const got = await context.with(trace.setSpan(context.active(), span), () =>
      tracedRequest('test', `${base}/v1/things/1?app=facebook`, { headers: { authorization: 'Bearer t' } }),
    );
    span.end();
    expect(got.status).toBe(200);
    expect(got.ok).toBe(true);
    expect(got.json()).toEqual({ kind: 'card' });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url).toBe('/v1/things/1?app=facebook');
    expect(seen[0]?.headers.authorization).toBe('Bearer t');
    // W3C traceparent: version-traceid-spanid-flags, the trace being the caller's.
    expect(seen[0]?.headers.traceparent).toMatch(new RegExp(`^00-${span.spanContext().traceId}-[0-9a-f]{16}-0[01]$`));
  });

  it('keeps the connection open between requests', async () => {
    await tracedRequest('test', `${base}/a`);
    await tracedRequest('test', `${base}/b`);
    expect(seen.map((request) => request.url)).toEqual(['/a', '/b']);
    expect(seen[1]?.remotePort).toBe(seen[0]?.remotePort);
  });

  it('sends a body with its length, and answers a refusal as not ok', async () => {
    answer = (_request, response) => {
      response.statusCode = 409;
      response.end(JSON.stringify({ code: 'CONFLICT' }));
    };
    const got = await tracedRequest('test', `${base}/c`, { method: 'POST', body: '{"é":1}', headers: { 'content-type': 'application/json' } });
    expect(got.status).toBe(409);
    expect(got.ok).toBe(false);
    expect(got.json()).toEqual({ code: 'CONFLICT' });
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.body).toBe('{"é":1}');
    expect(seen[0]?.headers['content-length']).toBe(String(Buffer.byteLength('{"é":1}')));
  });

  it('refuses an answer longer than allowed', async () => {
    answer = (_request, response) => response.end('x'.repeat(10_000));
    await expect(tracedRequest('test', `${base}/d`, { maxBodyBytes: 1_000 })).rejects.toThrow(/longer than 1000 bytes/);
  });

  it('gives up when the signal aborts before the answer', async () => {
    answer = (_request, response) => void setTimeout(() => response.end('late'), 2_000).unref();
    await expect(tracedRequest('test', `${base}/e`, { signal: AbortSignal.timeout(50) })).rejects.toThrow(/abort|timeout/i);
  });
});
