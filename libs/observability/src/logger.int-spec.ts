import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pinoHttp from 'pino-http';
import { capture } from './test/captured-lines';
import { createLogger, requestLogFields, responseLogFields } from './logger';

/** Real requests and answers over loopback HTTP: what the services' access lines log. */
describe('createLogger with HTTP requests and answers', () => {
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
