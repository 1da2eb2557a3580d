/**
 * The ledger under concurrency, against real PostgreSQL: group commit inside one process and
 * several processes (ledger instances with their own pools) racing on the same rows.
 */
import type { Clock, CommandOutcome, LedgerCommand } from '@pay/ledger-domain';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, waitFor } from '@pay/testing';
import type { QueryRunner } from 'typeorm';
import type { DataSourceOptions } from 'typeorm';
import { DataSource } from 'typeorm';
import type { BatchStats } from './index';
import { LEDGER_MIGRATIONS, lockChainHead, PostgresLedger, rebuildBalances, sqlOf } from './index';

const pay = (transactionId: string, from: string, to: string, amount: bigint): LedgerCommand => ({
  type: 'transfer',
  transactionId,
  postings: [
    { accountId: from, direction: 'debit', amount, currency: 'EUR' },
    { accountId: to, direction: 'credit', amount, currency: 'EUR' },
  ],
});

const codeOf = (outcome: CommandOutcome): string => (outcome.ok ? 'OK' : outcome.error.code);

describe('ledger concurrency', () => {
  let schema: TestSchema;
  let second: DataSource;
  let ledgers: PostgresLedger[];
  /** Both instances read this clock: real time, moved ahead by the test instead of sleeping. */
  let aheadMs = 0;
  const clock: Clock = { now: () => new Date(Date.now() + aheadMs) };

  beforeAll(async () => {
    schema = await createTestSchema('ledger_conc', LEDGER_MIGRATIONS, 12);
    // A second data source with its own pool stands for a second service instance.
    second = new DataSource(schema.dataSource.options);
    await second.initialize();
    ledgers = [
      new PostgresLedger(schema.dataSource, { clock, groupCommit: { maxBatchSize: 32 } }),
      new PostgresLedger(second, { clock, groupCommit: { maxBatchSize: 32, maxConcurrentBatches: 2 } }),
    ];
    await ledgers[0]?.openAccount({ id: 'clearing', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' });
    await ledgers[0]?.openAccount({ id: 'shop', ownerType: 'merchant', ownerId: 'm', currency: 'EUR' });
  });

  afterAll(async () => {
    await Promise.all(ledgers.map((l) => l.close()));
    await second.destroy();
    await schema.drop();
  });

  const ledger = (i: number): PostgresLedger => ledgers[i % ledgers.length];
  const journalIds = async (): Promise<string[]> =>
    (await schema.dataSource.query<Array<{ transaction_id: string }>>('SELECT transaction_id FROM journal_entries ORDER BY position')).map(
      (r) => r.transaction_id,
    );

  it('200 concurrent debits that together exceed the wallet never overdraw it; each accepted one is in the journal once', async () => {
    await ledger(0).openAccount({ id: 'wallet-1', ownerType: 'person', ownerId: 'u-1', currency: 'EUR' });
    await ledger(0).record(pay('fund-wallet-1', 'clearing', 'wallet-1', 10_000n));
    // 200 debits of 1..150 (about 15,000 in total) against 10,000, from two instances at once.
    const amounts = Array.from({ length: 200 }, (_, i) => BigInt((i * 37) % 150) + 1n);
    const outcomes = await Promise.all(amounts.map((amount, i) => ledger(i).submit(pay(`debit-${i}`, 'wallet-1', 'shop', amount))));

    const accepted = outcomes.flatMap((o, i) => (o.ok ? [i] : []));
    const refused = outcomes.filter((o) => !o.ok).map(codeOf);
    const total = amounts.reduce((a, b) => a + b, 0n);
    expect(total).toBeGreaterThan(10_000n);
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set(['INSUFFICIENT_FUNDS']));

    const spent = accepted.reduce((sum, i) => sum + amounts[i], 0n);
    const balance = await ledger(0).balance('wallet-1');
    expect(balance.posted).toBe(10_000n - spent);
    expect(balance.available).toBeGreaterThanOrEqual(0n);

    const ids = (await journalIds()).filter((id) => id.startsWith('debit-'));
    expect(ids.sort()).toEqual(accepted.map((i) => `debit-${i}`).sort());
    expect(new Set(ids).size).toBe(ids.length);
    expect(await ledger(1).balanceDrift()).toEqual([]);
  });

  it('50 concurrent posts of one transaction id produce one entry; every caller gets the first result', async () => {
    await ledger(0).openAccount({ id: 'wallet-2', ownerType: 'person', ownerId: 'u-2', currency: 'EUR' });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => ledger(i).record(pay('same-id', 'clearing', 'wallet-2', 1_234n))));
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.entry.hash)).size).toBe(1);
    expect((await journalIds()).filter((id) => id === 'same-id')).toHaveLength(1);
    expect(await ledger(0).balance('wallet-2')).toMatchObject({ posted: 1_234n });
    const events = await schema.dataSource.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM outbox WHERE payload->'data'->>'transactionId' = 'same-id'`,
    );
    expect(events[0]?.n).toBe(1);
  });

  it('the same id with different content, concurrently: one wins, the others conflict', async () => {
    await ledger(0).openAccount({ id: 'wallet-3', ownerType: 'person', ownerId: 'u-3', currency: 'EUR' });
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger(i).submit(pay('contested', 'clearing', 'wallet-3', BigInt(100 + (i % 2))))));
    const winners = outcomes.filter((o) => o.ok);
    expect(new Set(winners.map((o) => (o.ok ? o.entry.hash : '')))).toHaveProperty('size', 1);
    expect(
      outcomes
        .filter((o) => !o.ok)
        .map(codeOf)
        .every((c) => c === 'IDEMPOTENCY_CONFLICT'),
    ).toBe(true);
    expect(outcomes.filter((o) => !o.ok).length).toBe(10);
  });

  it('a command the database refuses fails alone; the rest of its batch is recorded', async () => {
    await ledger(0).openAccount({ id: 'wallet-5', ownerType: 'person', ownerId: 'u-5', currency: 'EUR' });
    // Stands for any failure the domain rules cannot foresee (a constraint, a trigger, a bug).
    await schema.dataSource.query(`
      CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.transaction_id = 'poison' THEN RAISE EXCEPTION 'poisoned entry'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_poison BEFORE INSERT ON journal_entries FOR EACH ROW EXECUTE FUNCTION refuse_poison();`);
    try {
      const ids = ['good-1', 'good-2', 'poison', 'good-3', 'good-4'];
      const results = await Promise.allSettled(ids.map((id) => ledger(0).record(pay(id, 'clearing', 'wallet-5', 10n))));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((results[2] as PromiseRejectedResult).reason).toHaveProperty('message', expect.stringMatching(/poisoned entry/));
      expect(await ledger(0).balance('wallet-5')).toMatchObject({ posted: 40n });
    } finally {
      await schema.dataSource.query('DROP TRIGGER refuse_poison ON journal_entries; DROP FUNCTION refuse_poison();');
    }
  });

  it('a post racing the expiry of the same hold: the hold is resolved exactly once', async () => {
    await ledger(0).openAccount({ id: 'wallet-4', ownerType: 'person', ownerId: 'u-4', currency: 'EUR' });
    await ledger(0).record(pay('fund-wallet-4', 'clearing', 'wallet-4', 100_000n));
    const expiresAt = new Date(clock.now().getTime() + 300);
    const holds = Array.from({ length: 40 }, (_, i) => `race-${i}`);
    await Promise.all(
      holds.map((id, i) =>
        ledger(i).record({ type: 'reserve', transactionId: id, debitAccountId: 'wallet-4', creditAccountId: 'shop', amount: 100n, currency: 'EUR', expiresAt }),
      ),
    );
    aheadMs += expiresAt.getTime() - clock.now().getTime() - 5; // 5 ms before the expiry, which real time then crosses
    // Around the expiry: posts, voids and two sweepers at once.
    const [, , ...answers] = await Promise.all([
      ledger(0).expireDueReservations(),
      ledger(1).expireDueReservations(),
      ...holds.map((id, i) =>
        ledger(i).submit(i % 3 === 0 ? { type: 'void_reservation', reservationId: id } : { type: 'post_reservation', reservationId: id }),
      ),
    ]);
    aheadMs += 20; // past the expiry: what the race left pending is released now
    await Promise.all([ledger(0).expireDueReservations(), ledger(1).expireDueReservations()]);
    expect(answers.every((a) => a.ok || ['RESERVATION_EXPIRED', 'RESERVATION_NOT_PENDING'].includes(a.error.code))).toBe(true);

    const resolutions = await schema.dataSource.query<Array<{ n: number }>>(
      `SELECT reservation_id, count(*)::int AS n FROM journal_entries
        WHERE reservation_id LIKE 'race-%' AND kind <> 'reserve' GROUP BY reservation_id`,
    );
    expect(resolutions).toHaveLength(40);
    expect(resolutions.every((r) => r.n === 1)).toBe(true);
    expect(await ledger(0).balance('wallet-4')).toMatchObject({ pendingOutgoing: 0n });
    expect(await ledger(1).balanceDrift()).toEqual([]);
    expect((await ledger(0).verify()).ok).toBe(true);
  });
  it('a batch holding one transfer the rules refuse commits the others in the same transaction; the refused one leaves nothing', async () => {
    await ledger(0).openAccount({ id: 'wallet-6', ownerType: 'person', ownerId: 'u-6', currency: 'EUR' });
    await ledger(0).record(pay('fund-wallet-6', 'clearing', 'wallet-6', 100n));
    const batches: BatchStats[] = [];
    const batching = new PostgresLedger(schema.dataSource, { clock, onBatch: (b) => batches.push(b) });
    try {
      // Submitted in one turn of the event loop: one group commit. The third would overdraw the wallet.
      const amounts = [30n, 40n, 50n, 20n, 10n];
      const outcomes = await Promise.all(amounts.map((amount, i) => batching.submit(pay(`mixed-${i}`, 'wallet-6', 'shop', amount))));
      expect(outcomes.map(codeOf)).toEqual(['OK', 'OK', 'INSUFFICIENT_FUNDS', 'OK', 'OK']);
      expect(batches.map((b) => [b.size, b.appended])).toEqual([[5, 4]]);
      const ids = await journalIds();
      expect(ids.filter((id) => id.startsWith('mixed-'))).toEqual(['mixed-0', 'mixed-1', 'mixed-3', 'mixed-4']);
      const [events] = await schema.dataSource.query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM outbox WHERE payload->'data'->>'transactionId' LIKE 'mixed-%'`,
      );
      expect(events?.n).toBe(4);
      expect(await batching.balance('wallet-6')).toMatchObject({ posted: 0n });
    } finally {
      await batching.close();
    }
  });

  describe('a writer that commits while a batch waits for the chain head', () => {
    /** Runs `hold` (which takes the chain head) in a transaction that commits once `second`'s batch waits for the head. */
    const whileHolding = async <T>(hold: (runner: QueryRunner) => Promise<T>, second: LedgerCommand): Promise<[T, CommandOutcome]> => {
      const runner = schema.dataSource.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        const held = await hold(runner);
        const [{ pid }] = (await runner.query('SELECT pg_backend_pid() AS pid')) as Array<{ pid: number }>;
        const waiting = ledger(1).submit(second);
        // The batch's reading statement started (so its snapshot predates the commit below) and waits for the head.
        await waitFor(
          () => schema.dataSource.query<Array<{ pid: number }>>('SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]),
          (rows) => rows.length > 0,
          { what: 'a batch waiting for the chain head' },
        );
        await runner.commitTransaction();
        return [held, await waiting];
      } finally {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        await runner.release();
      }
    };

    /** Runs `first` in a transaction that holds the chain head until `second`'s batch waits for it, then commits. */
    const whileHeld = async (first: LedgerCommand, second: LedgerCommand): Promise<[CommandOutcome | undefined, CommandOutcome]> =>
      whileHolding(async (runner) => (await ledger(0).recordWithin(runner, [{ command: first }]))[0], second);

    it('the batch reads the journal afresh: a second partial reversal cannot exceed the original', async () => {
      await ledger(0).record(pay('buy-7', 'clearing', 'shop', 100n));
      const refund = (id: string): LedgerCommand => ({
        type: 'reverse',
        transactionId: id,
        reverses: 'buy-7',
        postings: [
          { accountId: 'shop', direction: 'debit', amount: 60n, currency: 'EUR' },
          { accountId: 'clearing', direction: 'credit', amount: 60n, currency: 'EUR' },
        ],
      });
      const [first, second] = await whileHeld(refund('refund-7a'), refund('refund-7b'));
      expect(first && codeOf(first)).toBe('OK');
      expect(codeOf(second)).toBe('REVERSAL_EXCEEDS_ORIGINAL');
    });

    it('the batch finds and locks the accounts of a hold recorded meanwhile, and posts it', async () => {
      await ledger(0).openAccount({ id: 'wallet-8', ownerType: 'person', ownerId: 'u-8', currency: 'EUR' });
      await ledger(0).record(pay('fund-wallet-8', 'clearing', 'wallet-8', 500n));
      const reserve: LedgerCommand = {
        type: 'reserve',
        transactionId: 'hold-8',
        debitAccountId: 'wallet-8',
        creditAccountId: 'shop',
        amount: 200n,
        currency: 'EUR',
        expiresAt: new Date(clock.now().getTime() + 60_000),
      };
      const [held, posted] = await whileHeld(reserve, { type: 'post_reservation', reservationId: 'hold-8' });
      expect(held && codeOf(held)).toBe('OK');
      expect(codeOf(posted)).toBe('OK');
      expect(await ledger(0).balance('wallet-8')).toMatchObject({ posted: 300n, pendingOutgoing: 0n });
      expect(await ledger(0).balanceDrift()).toEqual([]);
      expect((await ledger(0).verify()).ok).toBe(true);
    });

    it('the batch reads balances afresh: a debit that a transfer committed meanwhile left uncovered is refused by the rules', async () => {
      await ledger(0).openAccount({ id: 'wallet-9', ownerType: 'person', ownerId: 'u-9', currency: 'EUR' });
      await ledger(0).record(pay('fund-wallet-9', 'clearing', 'wallet-9', 500n));
      // On a stale balance (500) the rules would accept the second debit and only the database's guard refuse it (an error, not an outcome).
      const [first, second] = await whileHeld(pay('spend-9a', 'wallet-9', 'shop', 400n), pay('spend-9b', 'wallet-9', 'shop', 200n));
      expect(first && codeOf(first)).toBe('OK');
      expect(codeOf(second)).toBe('INSUFFICIENT_FUNDS');
      expect(await ledger(0).balance('wallet-9')).toMatchObject({ posted: 100n });
    });

    it('the batch reads balances afresh after a rebuild that corrected them meanwhile (the head does not move)', async () => {
      await ledger(0).openAccount({ id: 'wallet-10', ownerType: 'person', ownerId: 'u-10', currency: 'EUR' });
      await ledger(0).record(pay('fund-wallet-10', 'clearing', 'wallet-10', 100n));
      // A maintained balance that drifted above the journal's (the derived table is writable; the journal is not).
      await schema.dataSource.query("UPDATE balances SET credits_posted = 1000 WHERE account_id = 'wallet-10'");
      const [report, spend] = await whileHolding((runner) => rebuildBalances(sqlOf(runner)), pay('spend-10', 'wallet-10', 'shop', 500n));
      expect(report.corrected.map((d) => d.accountId)).toEqual(['wallet-10']);
      expect(codeOf(spend)).toBe('INSUFFICIENT_FUNDS');
      expect(await ledger(0).balance('wallet-10')).toMatchObject({ posted: 100n });
      expect(await ledger(0).balanceDrift()).toEqual([]);
    });

    it('a balance row deleted behind the ledger meanwhile: the write fails whole, although COMMIT travels with it', async () => {
      await ledger(0).openAccount({ id: 'wallet-11', ownerType: 'person', ownerId: 'u-11', currency: 'EUR' });
      await ledger(0).record(pay('fund-wallet-11', 'clearing', 'wallet-11', 100n));
      const shopBefore = await ledger(0).balance('shop');
      const deleting = whileHolding(
        async (runner) => {
          await lockChainHead(sqlOf(runner));
          await runner.query("DELETE FROM balances WHERE account_id = 'wallet-11'");
        },
        pay('spend-11', 'wallet-11', 'shop', 50n),
      );
      await expect(deleting).rejects.toThrow(/expected to update 2 balances, updated 1/);
      expect(await journalIds()).not.toContain('spend-11');
      expect(await ledger(0).balance('shop')).toEqual(shopBefore);
    });
  });

  it('a pooled connection that lost its prepared statements (DEALLOCATE ALL) prepares them again: the batch is recorded', async () => {
    // One connection, so that the DEALLOCATE runs on the connection the next batch takes.
    const single = new DataSource({ ...schema.dataSource.options, poolSize: 1 } as DataSourceOptions);
    await single.initialize();
    const alone = new PostgresLedger(single, { clock });
    try {
      await alone.openAccount({ id: 'wallet-12', ownerType: 'person', ownerId: 'u-12', currency: 'EUR' });
      expect(codeOf(await alone.submit(pay('fund-wallet-12', 'clearing', 'wallet-12', 100n)))).toBe('OK');
      await single.query('DEALLOCATE ALL');
      expect(codeOf(await alone.submit(pay('spend-12', 'wallet-12', 'shop', 30n)))).toBe('OK');
      expect(await alone.balance('wallet-12')).toMatchObject({ posted: 70n });
    } finally {
      await alone.close();
      await single.destroy();
    }
  });
});
