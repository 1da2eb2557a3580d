/**
 * The reservation sweeper on real PostgreSQL: it releases a hold when it expires, and between
 * expiries it runs nothing (no sweep, no statement).
 */
import type { LedgerCommand } from '@pay/ledger-domain';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, isTrue, waitFor } from '@pay/testing';
import { LEDGER_MIGRATIONS, PostgresLedger, ReservationSweeper } from './index';

describe('ReservationSweeper', () => {
  let schema: TestSchema;
  let ledger: PostgresLedger;

  const pending = async (): Promise<number> =>
    (await schema.dataSource.query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM pending_reservations'))[0]?.n ?? 0;
  const reserve = (id: string, ttlMs: number): LedgerCommand => ({
    type: 'reserve',
    transactionId: id,
    debitAccountId: 'alice',
    creditAccountId: 'shop',
    amount: 100n,
    currency: 'EUR',
    expiresAt: new Date(Date.now() + ttlMs),
  });

  beforeAll(async () => {
    schema = await createTestSchema('ledger_sweeper', LEDGER_MIGRATIONS);
    ledger = new PostgresLedger(schema.dataSource);
    await ledger.openAccount({ id: 'clearing', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' });
    await ledger.openAccount({ id: 'alice', ownerType: 'person', ownerId: 'u-alice', currency: 'EUR' });
    await ledger.openAccount({ id: 'shop', ownerType: 'merchant', ownerId: 'm-shop', currency: 'EUR' });
    await ledger.record({
      type: 'transfer',
      transactionId: 'fund-alice',
      postings: [
        { accountId: 'clearing', direction: 'debit', amount: 10_000n, currency: 'EUR' },
        { accountId: 'alice', direction: 'credit', amount: 10_000n, currency: 'EUR' },
      ],
    });
  });

  afterAll(async () => {
    await ledger.close();
    await schema.drop();
  });

  it('sleeps while no hold is pending, and releases a hold recorded later when it expires', async () => {
    const sweeper = new ReservationSweeper(ledger, { intervalMs: 50 });
    sweeper.start();
    try {
      await waitFor(() => sweeper.sweeps === 1, isTrue, { what: 'the start sweep', timeoutMs: 10_000, intervalMs: 20 });
      // Idle: the polling sweeper swept every intervalMs (here 50 ms); this one sweeps no more.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(sweeper.sweeps).toBe(1);

      // The positive marker: a hold recorded now wakes it at its expiry, not before.
      const recorded = Date.now();
      await ledger.record(reserve('hold-soon', 600));
      expect(await pending()).toBe(1);
      await waitFor(async () => (await pending()) === 0, isTrue, { what: 'the hold to be released', timeoutMs: 10_000, intervalMs: 20 });
      expect(Date.now() - recorded).toBeGreaterThanOrEqual(550);
      expect(sweeper.sweeps).toBe(2);
    } finally {
      await sweeper.stop();
    }
  });

  it('at start, finds a hold recorded before it and sleeps until that hold expires', async () => {
    await ledger.record(reserve('hold-before', 800));
    const sweeper = new ReservationSweeper(ledger, { intervalMs: 50 });
    sweeper.start();
    try {
      await waitFor(() => sweeper.sweeps === 1, isTrue, { what: 'the start sweep', timeoutMs: 10_000, intervalMs: 20 });
      expect(await pending()).toBe(1);
      await waitFor(async () => (await pending()) === 0, isTrue, { what: 'the hold to be released', timeoutMs: 10_000, intervalMs: 20 });
      expect(sweeper.sweeps).toBe(2);
    } finally {
      await sweeper.stop();
    }
  });
});
