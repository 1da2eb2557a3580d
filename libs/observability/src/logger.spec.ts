import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import pinoHttp from 'pino-http';
import { createLogger, requestLogFields, responseLogFields } from './logger';
import { startTelemetry } from './telemetry';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes JSON with the service name and no sensitive data in objects or messages', () => {
    const { lines, stream } = capture();
    const log = createLogger('wallet', 'info', stream);
    log.info({ card: { number: '4242424242424242' }, note: 'mail me at ana@example.com' }, 'paid with 4242 4242 4242 4242');
    log.error({ err: new Error('IBAN DE89370400440532013000 refused') }, 'failed');
    const output = lines.join('');
    expect(JSON.parse(lines[0])).toMatchObject({ service: 'wallet', level: 'info' });
    expect(output).not.toMatch(/4242|ana@example|DE89/);
    expect(output).toContain('[REDACTED:card]');
  });

  it('scrubs format arguments of every type and the headers pino knows', () => {
    const { lines, stream } = capture();
    const log = createLogger('wallet', 'info', stream);
    log.info('saved %o for %s', { pspToken: 'tok_abcdef123', holderName: 'Ana Lima' }, 'ana@example.com');
    log.info({ req: { headers: { authorization: 'Bearer eyJabc.def.ghi' } } }, 'request');
    const output = lines.join('');
    expect(output).not.toMatch(/tok_abcdef|Ana Lima|ana@example|eyJabc/);
  });

  it('names the active trace and span, so a log line leads to its trace', async () => {
    // The SDK registers the context manager that makes a span active.
    const telemetry = startTelemetry({ service: 'logger-test' });
    const { lines, stream } = capture();
    const log = createLogger('wallet', 'info', stream);
    // A span context whose ids hold a Luhn-valid 16-digit run: scrubbing must not touch ids.
    const spanContext = { traceId: '4242424242424242abcdef0123456789', spanId: '00f067aa0ba902b7', traceFlags: 1 };
    context.with(trace.setSpanContext(context.active(), spanContext), () => log.info('inside'));
    log.info('outside');
    expect(JSON.parse(lines[0])).toMatchObject({ trace_id: spanContext.traceId, span_id: spanContext.spanId });
    expect(JSON.parse(lines[1])).not.toHaveProperty('trace_id');
    await telemetry.shutdown();
  });

  describe('HTTP requests and answers', () => {
    /** Serves one request with `handle`, sent with a bearer token, a cookie and a query string. */
    async function serveOne(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<void> {
      const server = createServer(handle);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const answer = await fetch(`http://127.0.0.1:${port}/v1/payments/pay_1?token=tok_query_secret`, {
          method: 'POST',
          headers: { authorization: 'Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl', cookie: 'session=s3cr3t-cookie' },
          body: '{}',
        });
        expect(answer.status).toBe(201);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }

    const secrets = /eyJhbGciOi|s3cr3t-cookie|tok_query_secret|authorization|cookie/i;

    it('logs a request and its answer as id, method, path and status: no headers, no query string', async () => {
      const { lines, stream } = capture();
      const log = createLogger('wallet', 'info', stream);
      await serveOne((request, response) => {
        response.statusCode = 201;
        response.setHeader('set-cookie', 'session=s3cr3t-cookie');
        response.end();
        log.info({ req: request, res: response, responseTime: 3 }, 'request completed');
      });
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0])).toMatchObject({
        msg: 'request completed',
        req: { method: 'POST', path: '/v1/payments/pay_1' },
        res: { statusCode: 201 },
        responseTime: 3,
      });
      expect(lines[0]).not.toMatch(secrets);
    });

    it('scrubs anything else logged under req or res as any other object', () => {
      const { lines, stream } = capture();
      const log = createLogger('wallet', 'info', stream);
      log.info({ req: { headers: { authorization: 'Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl' }, note: 'ana@example.com' }, res: 'paid by 4242424242424242' });
      expect(lines[0]).not.toMatch(/eyJhbGciOi|ana@example|4242424242424242/);
      expect(JSON.parse(lines[0])).toMatchObject({ req: { note: '[REDACTED:email]' }, res: 'paid by [REDACTED:card]' });
    });

    it("gives pino-http's access line the same fields, as the platform configures it", async () => {
      const { lines, stream } = capture();
      const http = pinoHttp({
        logger: createLogger('wallet', 'info', stream),
        quietReqLogger: true,
        serializers: { req: requestLogFields, res: responseLogFields },
      });
      await serveOne((request, response) => {
        http(request, response);
        response.statusCode = 201;
        response.end();
      });
      const completed = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'request completed');
      expect(completed).toMatchObject({ req: { method: 'POST', path: '/v1/payments/pay_1' }, res: { statusCode: 201 } });
      expect(lines.join('')).not.toMatch(secrets);
    });
  });
});
