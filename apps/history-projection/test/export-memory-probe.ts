/**
 * The export path of the service (HistoryReader.exportCsv piped by sendCsv) in a process of its
 * own, so that its memory can be watched without the test runner's (which is also the HTTP
 * client, and Jest): started by csv-export.int-spec.ts with `node --import tsx`, it serves
 * GET /export (or /export?buffered, the control that reads everything first) and reports the
 * resident set it sampled during the last export (baseline before, peak during) at GET /stats.
 *
 * Usage: export-memory-probe.ts <database-url> <schema> <person-id>
 */
import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@pay/observability';
import { createServiceDataSource } from '@pay/platform';
import { csvHeader, csvLines } from '../src/export-history/csv';
import { sendCsv } from '../src/export-history/send-csv';
import { ENTRY_CSV_COLUMNS } from '../src/query-history/entry-view';
import type { EntryRow } from '../src/query-history/history-query';
import { historyQuery } from '../src/query-history/history-query';
import { HistoryReader } from '../src/query-history/history-reader';

async function main(): Promise<void> {
  const [url, schema, personId] = process.argv.slice(2);
  const dataSource = createServiceDataSource({ url, schema, migrations: [], poolSize: 2, applicationName: 'history-export-probe' });
  await dataSource.initialize();
  const reader = new HistoryReader(dataSource);
  const logger = createLogger('history-export-probe', 'silent');
  const stats = { baselineRss: 0, peakRss: 0, samples: 0 };

  /** What an export that reads everything first would do: the control of the test. */
  async function* buffered(): AsyncGenerator<string> {
    const built = historyQuery(await reader.tables(), { kind: 'person', personId }, {}, 'desc');
    const rows = await dataSource.query<EntryRow[]>(built.text, built.values);
    yield csvHeader(ENTRY_CSV_COLUMNS) + csvLines(ENTRY_CSV_COLUMNS, rows);
  }

  const server = createServer((request, response) => {
    if (request.url === '/stats') {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(stats));
      return;
    }
    stats.baselineRss = process.memoryUsage().rss;
    stats.peakRss = stats.baselineRss;
    const sampler = setInterval(() => {
      stats.peakRss = Math.max(stats.peakRss, process.memoryUsage().rss);
      stats.samples += 1;
    }, 10);
    const chunks = request.url === '/export?buffered' ? buffered() : reader.exportCsv({ kind: 'person', personId }, {}, 'desc');
    sendCsv(response, 'history.csv', chunks, logger)
      .catch((error: unknown) => response.destroy(error as Error))
      .finally(() => {
        stats.peakRss = Math.max(stats.peakRss, process.memoryUsage().rss);
        clearInterval(sampler);
      });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  process.on('SIGTERM', () => {
    server.close();
    void dataSource.destroy().finally(() => process.exit(0));
  });
}

void main();
