import type { IncomingHttpHeaders, Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders;
  /** The bytes as they arrived: what the signature covers. */
  readonly rawBody: Buffer;
  /** `type` and `id` of the event, read for convenience. */
  readonly type: string;
  readonly id: string;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** The status answered to deliveries (200 by default); set 500 to see the simulator retry. */
  respondWith(status: number): void;
  /** Resolves once `count` deliveries arrived in total, or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  clear(): void;
  close(): Promise<void>;
}

/** A bare HTTP endpoint that records webhook deliveries, for tests that look at what the simulator sends. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let status = 200;
  let waiters: (() => void)[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      let parsed: { type?: string; id?: string } = {};
      try {
        parsed = JSON.parse(rawBody.toString('utf8')) as { type?: string; id?: string };
      } catch {
        // recorded as it came: the test decides what a malformed body means
      }
      received.push({ headers: request.headers, rawBody, type: parsed.type ?? '', id: parsed.id ?? '' });
      response.writeHead(status, { 'content-type': 'application/json' }).end('{"received":true}');
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    received,
    respondWith: (next) => {
      status = next;
    },
    waitFor: (count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (received.length < count) return false;
          clearTimeout(timer);
          waiters = waiters.filter((waiter) => waiter !== wake);
          resolve([...received]);
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters = waiters.filter((waiter) => waiter !== wake);
          reject(new Error(`expected ${count} webhook deliveries within ${timeoutMs} ms, got ${received.length}`));
        }, timeoutMs);
        if (!check()) waiters.push(wake);
      }),
    clear: () => {
      received.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
