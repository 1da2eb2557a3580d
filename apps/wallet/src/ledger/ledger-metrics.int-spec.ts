/**
 * The ledger's posting metrics through the whole wallet service (real PostgreSQL): entries
 * recorded over the ledger's HTTP API show in the service's /metrics by entry kind, a retry
 * as `replayed`, and every group-committed batch in the batch histograms.
 *
 * The wallet's consumers read shared topics, so other test files' events may post entries
 * meanwhile: the tests expect counters to grow by at least what they did.
 */
import { prometheusValue, scrapeMetrics, uniqueName } from '@pay/testing';
import type { MoneyWallet } from '../money/test/money-test-kit';
import { startMoneyWallet } from '../money/test/money-test-kit';

let wallet: MoneyWallet;
const source = uniqueName('metrics-source');
const target = uniqueName('metrics-target');

beforeAll(async () => {
  wallet = await startMoneyWallet('ledger_metrics');
  for (const account of [
    { id: source, ownerType: 'system', ownerId: 'metrics', currency: 'EUR', normalSide: 'debit' },
    { id: target, ownerType: 'person', ownerId: 'u-metrics', currency: 'EUR' },
  ]) {
    expect((await wallet.http('POST', '/v1/ledger/accounts', account)).status).toBe(201);
  }
  // The API never debits a system account: the target's money is loaded in-process.
  await wallet.ledger.record({
    type: 'transfer',
    transactionId: uniqueName('metrics-funding'),
    postings: [
      { accountId: source, direction: 'debit', amount: 10_000n, currency: 'EUR' },
      { accountId: target, direction: 'credit', amount: 10_000n, currency: 'EUR' },
    ],
  });
});

afterAll(async () => {
  await wallet?.stop();
});

async function entries(kind: string, outcome: 'appended' | 'replayed'): Promise<number> {
  return prometheusValue(await scrapeMetrics(wallet.service.url), 'ledger_journal_entries_total', { kind, outcome });
}

it('counts a posted transfer as appended, and the same transaction posted again as replayed', async () => {
  const [appended, replayed] = [await entries('transfer', 'appended'), await entries('transfer', 'replayed')];
  const transaction = {
    id: uniqueName('metrics-tx'),
    postings: [
      { accountId: target, direction: 'debit', amount: '700', currency: 'EUR' },
      { accountId: source, direction: 'credit', amount: '700', currency: 'EUR' },
    ],
    metadata: {},
  };
  expect((await wallet.http('POST', '/v1/ledger/transactions', transaction)).status).toBe(201);
  expect((await wallet.http('POST', '/v1/ledger/transactions', transaction)).status).toBe(200);

  expect(await entries('transfer', 'appended')).toBeGreaterThanOrEqual(appended + 1);
  expect(await entries('transfer', 'replayed')).toBeGreaterThanOrEqual(replayed + 1);
});

it('labels a hold and its resolution with their own kinds; batches show in the batch histograms', async () => {
  const metrics = await scrapeMetrics(wallet.service.url);
  const before = {
    reserve: prometheusValue(metrics, 'ledger_journal_entries_total', { kind: 'reserve', outcome: 'appended' }),
    posted: prometheusValue(metrics, 'ledger_journal_entries_total', { kind: 'post_pending', outcome: 'appended' }),
    batches: prometheusValue(metrics, 'ledger_batch_size_count'),
  };
  const hold = uniqueName('metrics-hold');
  expect(
    (
      await wallet.http('POST', '/v1/ledger/reservations', {
        id: hold,
        debitAccountId: target,
        creditAccountId: source,
        amount: '300',
        currency: 'EUR',
        ttlSeconds: 600,
      })
    ).status,
  ).toBe(201);
  expect((await wallet.http('POST', `/v1/ledger/reservations/${hold}/post`, { amount: '200' })).status).toBe(201);

  const after = await scrapeMetrics(wallet.service.url);
  expect(prometheusValue(after, 'ledger_journal_entries_total', { kind: 'reserve', outcome: 'appended' })).toBeGreaterThanOrEqual(before.reserve + 1);
  expect(prometheusValue(after, 'ledger_journal_entries_total', { kind: 'post_pending', outcome: 'appended' })).toBeGreaterThanOrEqual(before.posted + 1);
  expect(prometheusValue(after, 'ledger_batch_size_count')).toBeGreaterThanOrEqual(before.batches + 2);
  expect(prometheusValue(after, 'ledger_batch_duration_bucket', { le: '+Inf' })).toBe(prometheusValue(after, 'ledger_batch_duration_count'));
});
