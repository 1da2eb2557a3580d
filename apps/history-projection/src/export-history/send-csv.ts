import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '@pay/observability';

/**
 * Streams CSV chunks to the response with back-pressure: the next rows are read from
 * PostgreSQL only when the client has taken the previous ones. The first rows are read before
 * the status line is sent, so a failing query still gets a proper error response; a client that
 * goes away mid-way ends the query and frees its connection.
 */
export async function sendCsv(response: ServerResponse, filename: string, chunks: AsyncGenerator<string>, logger: Logger): Promise<void> {
  const prefetched: string[] = [];
  for (let i = 0; i < 2; i += 1) {
    const next = await chunks.next();
    if (next.done) break;
    prefetched.push(next.value);
  }
  response.statusCode = 200;
  response.setHeader('Content-Type', 'text/csv; charset=utf-8');
  response.setHeader('Content-Disposition', `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  response.setHeader('Cache-Control', 'no-store');
  async function* all(): AsyncGenerator<string> {
    yield* prefetched;
    yield* chunks;
  }
  try {
    await pipeline(Readable.from(all(), { objectMode: false, encoding: 'utf8' }), response);
  } catch (error) {
    // The status line is out: all that is left is to end the response and say why in the log.
    await chunks.return(undefined);
    logger.warn({ reason: (error as Error).message, filename }, 'CSV export ended early');
    if (!response.destroyed) response.destroy();
  }
}
