import type { EventEnvelope, LedgerTransactionRecordedData } from '@pay/contracts';
import { parseEvent, Topics } from '@pay/contracts';
import type { Clock, LedgerCommand, PostingInput } from '@pay/ledger-domain';
import { isLedgerError } from '@pay/ledger-domain';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { LEDGER_MIGRATIONS, ledgerEventId, PostgresLedger } from './index';

class TestClock implements Clock {
  constructor(private at = new Date('2026-03-01T10:00:00.000Z')) {}
  now(): Date {
    return new Date(this.at.getTime());
  }
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

const eur = (accountId: string, direction: 'debit' | 'credit', amount: bigint): PostingInput => ({ accountId, direction, amount, currency: 'EUR' });
const transfer = (transactionId: string, from: string, to: string, amount: bigint, metadata?: Record<string, string>): LedgerCommand => ({
  type: 'transfer',
  transactionId,
  postings: [eur(from, 'debit', amount), eur(to, 'credit', amount)],
  metadata,
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (isLedgerError(error)) return error.code;
    throw error;
  }
}

describe('PostgresLedger', () => {
  let schema: TestSchema;
  let ledger: PostgresLedger;
  const clock = new TestClock();

  const count = async (table: string): Promise<number> => {
    const [row] = await schema.dataSource.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM ${table}`);
    return row?.n ?? 0;
  };

  beforeAll(async () => {
    schema = await createTestSchema('ledger', LEDGER_MIGRATIONS);
    ledger = new PostgresLedger(schema.dataSource, { clock });
    await ledger.openAccount({ id: 'clearing', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' });
    await ledger.openAccount({ id: 'alice', ownerType: 'person', ownerId: 'u-alice', currency: 'EUR' });
    await ledger.openAccount({ id: 'shop', ownerType: 'merchant', ownerId: 'm-shop', currency: 'EUR' });
    await ledger.openAccount({ id: 'fees', ownerType: 'system', ownerId: 'platform', currency: 'EUR', normalSide: 'credit' });
    await ledger.openAccount({ id: 'dave', ownerType: 'person', ownerId: 'u-dave', currency: 'USD' });
  });

  afterAll(async () => {
    await ledger.close();
    await schema.drop();
  });

  describe('accounts', () => {
    it('opens idempotently and refuses a different definition under the same id', async () => {
      const again = await ledger.openAccount({ id: 'alice', ownerType: 'person', ownerId: 'u-alice', currency: 'EUR' });
      expect(again).toMatchObject({ created: false, account: { id: 'alice', normalSide: 'credit', minBalance: 0n } });
      expect(await codeOf(ledger.openAccount({ id: 'alice', ownerType: 'person', ownerId: 'u-alice', currency: 'USD' }))).toBe('IDEMPOTENCY_CONFLICT');
      expect(await ledger.findAccount('nobody')).toBeUndefined();
    });
  });

  describe('transactions', () => {
    it('records a balanced transaction, its balances and its event in the same transaction', async () => {
      const { entry, replayed } = await ledger.record(transfer('fund-1', 'clearing', 'alice', 10_000n, { psp: 'stripe' }));
      expect(replayed).toBe(false);
      expect(entry).toMatchObject({ position: 1n, kind: 'transfer', transactionId: 'fund-1' });
      expect(await ledger.balance('alice')).toMatchObject({ posted: 10_000n, available: 10_000n, asOfPosition: 1n });
      expect(await ledger.balance('clearing')).toMatchObject({ posted: 10_000n, normalSide: 'debit' });

      const [row] = await schema.dataSource.query<
        Array<{
          topic: string;
          message_key: string;
          event_id: string;
          payload: unknown;
        }>
      >('SELECT topic, message_key, event_id, payload FROM outbox ORDER BY position');
      expect(row).toMatchObject({ topic: Topics.ledgerTransactions, message_key: 'fund-1', event_id: ledgerEventId('fund-1') });
      const event = parseEvent(row?.payload) as EventEnvelope<LedgerTransactionRecordedData>;
      expect(event).toMatchObject({ type: 'ledger.transaction.recorded', version: 1, source: 'wallet', sequence: 1 });
      expect(event.data).toMatchObject({
        transactionId: 'fund-1',
        kind: 'transfer',
        position: '1',
        metadata: { psp: 'stripe' },
        hash: entry.hash,
        postings: [
          { accountId: 'clearing', direction: 'debit', amount: '10000', currency: 'EUR', layer: 'posted' },
          { accountId: 'alice', direction: 'credit', amount: '10000', currency: 'EUR', layer: 'posted' },
        ],
      });
    });

    it('replays a retry and refuses the same id with other content', async () => {
      const first = await ledger.record(transfer('buy-1', 'alice', 'shop', 1_000n));
      const retry = await ledger.record(transfer('buy-1', 'alice', 'shop', 1_000n));
      expect(retry).toEqual({ entry: first.entry, replayed: true });
      expect(await codeOf(ledger.record(transfer('buy-1', 'alice', 'shop', 999n)))).toBe('IDEMPOTENCY_CONFLICT');
      expect(await ledger.balance('alice')).toMatchObject({ posted: 9_000n });
    });

    it('rejects whole: a refused transaction leaves no entry, posting, balance change or event', async () => {
      const before = await Promise.all(['journal_entries', 'postings', 'outbox'].map(count));
      expect(await codeOf(ledger.record(transfer('too-much', 'alice', 'shop', 9_001n)))).toBe('INSUFFICIENT_FUNDS');
      expect(
        await codeOf(ledger.record({ type: 'transfer', transactionId: 'odd', postings: [eur('clearing', 'debit', 5n), eur('alice', 'credit', 4n)] })),
      ).toBe('UNBALANCED');
      expect(await codeOf(ledger.record(transfer('usd', 'clearing', 'dave', 5n)))).toBe('CURRENCY_MISMATCH');
      expect(await codeOf(ledger.record(transfer('ghost', 'clearing', 'ghost', 5n)))).toBe('ACCOUNT_NOT_FOUND');
      expect(await codeOf(ledger.record(transfer('bad id!', 'clearing', 'alice', 5n)))).toBe('INVALID_INPUT');
      expect(await Promise.all(['journal_entries', 'postings', 'outbox'].map(count))).toEqual(before);
      expect(await ledger.balance('alice')).toMatchObject({ posted: 9_000n });
    });
  });

  describe('two-phase transfers', () => {
    const reserve = (id: string, amount: bigint, ttlMs: number): LedgerCommand => ({
      type: 'reserve',
      transactionId: id,
      debitAccountId: 'alice',
      creditAccountId: 'shop',
      amount,
      currency: 'EUR',
      expiresAt: new Date(clock.now().getTime() + ttlMs),
    });

    it('holds, then posts in part: the hold counts against the available balance until then', async () => {
      await ledger.record(reserve('hold-1', 3_000n, 60_000));
      expect(await ledger.balance('alice')).toMatchObject({ posted: 9_000n, pendingOutgoing: 3_000n, available: 6_000n });
      expect(await codeOf(ledger.record(transfer('spend', 'alice', 'shop', 6_001n)))).toBe('INSUFFICIENT_FUNDS');
      expect(await codeOf(ledger.record({ type: 'post_reservation', reservationId: 'hold-1', amount: 3_001n }))).toBe('AMOUNT_EXCEEDS_RESERVATION');
      const post = await ledger.record({ type: 'post_reservation', reservationId: 'hold-1', amount: 2_500n });
      expect(post.entry).toMatchObject({ kind: 'post_pending', transactionId: 'hold-1:post', reservationId: 'hold-1' });
      expect(await ledger.balance('alice')).toMatchObject({ posted: 6_500n, pendingOutgoing: 0n, available: 6_500n });
      expect(await ledger.record({ type: 'post_reservation', reservationId: 'hold-1', amount: 2_500n })).toMatchObject({ replayed: true });
      expect(await codeOf(ledger.record({ type: 'void_reservation', reservationId: 'hold-1' }))).toBe('RESERVATION_NOT_PENDING');
    });

    it('voids a hold', async () => {
      await ledger.record(reserve('hold-2', 1_000n, 60_000));
      await ledger.record({ type: 'void_reservation', reservationId: 'hold-2' });
      expect(await ledger.balance('alice')).toMatchObject({ posted: 6_500n, available: 6_500n });
      expect(await codeOf(ledger.record({ type: 'post_reservation', reservationId: 'hold-2' }))).toBe('RESERVATION_NOT_PENDING');
      expect(await codeOf(ledger.record({ type: 'post_reservation', reservationId: 'nope' }))).toBe('RESERVATION_NOT_FOUND');
    });

    it('the sweeper releases expired holds exactly once; a late post is refused and releases at once', async () => {
      await ledger.record(reserve('hold-3', 500n, 1_000));
      await ledger.record(reserve('hold-4', 700n, 1_000));
      await ledger.record(reserve('hold-5', 100n, 60_000));
      expect(await ledger.balance('alice')).toMatchObject({ available: 5_200n });
      clock.advance(1_000);
      expect(await codeOf(ledger.record({ type: 'post_reservation', reservationId: 'hold-4' }))).toBe('RESERVATION_EXPIRED');
      expect(await ledger.expireDueReservations()).toBe(1);
      expect(await ledger.expireDueReservations()).toBe(0);
      const expiries = await schema.dataSource.query<
        Array<{
          transaction_id: string;
        }>
      >("SELECT transaction_id FROM journal_entries WHERE kind = 'expire_pending' ORDER BY position");
      expect(expiries.map((r) => r.transaction_id)).toEqual(['hold-4:expire', 'hold-3:expire']);
      expect(await ledger.balance('alice')).toMatchObject({ posted: 6_500n, available: 6_400n, pendingOutgoing: 100n });
      const pending = await schema.dataSource.query<Array<{ reservation_id: string }>>('SELECT reservation_id FROM pending_reservations');
      expect(pending.map((r) => r.reservation_id)).toEqual(['hold-5']);
    });
  });

  describe('reversals', () => {
    it('reverses in part and in full, never beyond the original', async () => {
      await ledger.record({
        type: 'transfer',
        transactionId: 'buy-2',
        postings: [eur('alice', 'debit', 1_000n), eur('shop', 'credit', 970n), eur('fees', 'credit', 30n)],
      });
      const refund = await ledger.record({
        type: 'reverse',
        transactionId: 'refund-2a',
        reverses: 'buy-2',
        postings: [eur('shop', 'debit', 500n), eur('alice', 'credit', 500n)],
      });
      expect(refund.entry).toMatchObject({ kind: 'reversal', reverses: 'buy-2' });
      const rest = await ledger.record({ type: 'reverse', transactionId: 'refund-2b', reverses: 'buy-2' });
      expect(rest.entry.postings.map((p) => `${p.direction} ${p.accountId} ${p.amount}`)).toEqual(['credit alice 500', 'debit shop 470', 'debit fees 30']);
      expect(await codeOf(ledger.record({ type: 'reverse', transactionId: 'refund-2c', reverses: 'buy-2' }))).toBe('REVERSAL_EXCEEDS_ORIGINAL');
      expect(await codeOf(ledger.record({ type: 'reverse', transactionId: 'refund-2d', reverses: 'missing' }))).toBe('TRANSACTION_NOT_FOUND');
    });
  });

  describe('reading balances and statements', () => {
    it('answers the balance as of a position and as of a time', async () => {
      expect(await ledger.balanceAsOf('alice', { position: 0n })).toMatchObject({ posted: 0n, asOfPosition: 0n });
      expect(await ledger.balanceAsOf('alice', { position: 1n })).toMatchObject({ posted: 10_000n, asOfPosition: 1n });
      expect(await ledger.balanceAsOf('alice', { position: 2n })).toMatchObject({ posted: 9_000n });
      const now = await ledger.balance('alice');
      expect(await ledger.balanceAsOf('alice', { position: now.asOfPosition })).toEqual(now);
      expect(await ledger.balanceAsOf('alice', { timestamp: new Date('2020-01-01') })).toMatchObject({ posted: 0n, asOfPosition: 0n });
      expect(await ledger.balanceAsOf('alice', { timestamp: clock.now() })).toEqual(now);
      expect(await codeOf(ledger.balanceAsOf('alice', { position: 10_000n }))).toBe('INVALID_INPUT');
      expect(await codeOf(ledger.balance('nobody'))).toBe('ACCOUNT_NOT_FOUND');
    });

    it('pages a statement with a running balance that ends at the current balance', async () => {
      const lines = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await ledger.statement('alice', { cursor, limit: 3 });
        if (lines.length === 0) expect(page.opening).toMatchObject({ posted: 0n });
        else expect(page.opening).toEqual(lines[lines.length - 1]?.balanceAfter);
        lines.push(...page.lines);
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBeGreaterThan(2);
      expect(lines.map((l) => l.transactionId).slice(0, 3)).toEqual(['fund-1', 'buy-1', 'hold-1']);
      expect(lines.map((l) => l.position)).toEqual([...lines.map((l) => l.position)].sort((a, b) => (a < b ? -1 : 1)));
      const { posted, pendingIncoming, pendingOutgoing, available } = await ledger.balance('alice');
      expect(lines[lines.length - 1]?.balanceAfter).toEqual({ posted, pendingIncoming, pendingOutgoing, available });
      expect(await codeOf(ledger.statement('alice', { cursor: 'abc' }))).toBe('INVALID_INPUT');
      expect(await codeOf(ledger.statement('alice', { limit: 0 }))).toBe('INVALID_INPUT');
    });
  });

  describe('derived state', () => {
    it('keeps one outbox event per journal entry, in journal order', async () => {
      const rows = await schema.dataSource.query<Array<{ position: string; sequence: string }>>(
        `SELECT e.position, (o.payload->>'sequence')::bigint AS sequence FROM journal_entries e
           LEFT JOIN outbox o ON o.payload->'data'->>'transactionId' = e.transaction_id ORDER BY o.position`,
      );
      expect(rows.length).toBe(await count('journal_entries'));
      expect(rows.every((r) => r.position === r.sequence)).toBe(true);
      expect(rows.map((r) => Number(r.position))).toEqual(rows.map((_, i) => i + 1));
    });

    it('maintained balances equal balances rebuilt from the journal, and the chain verifies', async () => {
      expect(await ledger.balanceDrift()).toEqual([]);
      const report = await ledger.rebuildBalances();
      expect(report).toMatchObject({ accounts: 5, corrected: [], pendingReservations: 1, pendingReservationsCorrected: false });
      expect(await ledger.verify()).toEqual({ ok: true, entries: BigInt(await count('journal_entries')) });
    });

    it('every currency sums to zero over the whole journal', async () => {
      const rows = await schema.dataSource.query<Array<{ net: string }>>(
        `SELECT currency, layer, sum(CASE direction WHEN 'debit' THEN amount ELSE -amount END)::text AS net FROM postings GROUP BY currency, layer`,
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.net === '0')).toBe(true);
    });
  });
});
