import { economy, eur, ManualClock } from './__fixtures__/ledger-fixtures';
import type { CommandOutcome } from './ledger-batch';
import type { LedgerCommand } from './commands';

const fund = (transactionId: string, accountId: string, amount: bigint): LedgerCommand => ({
  type: 'transfer',
  transactionId,
  postings: [eur('clearing-eur', 'debit', amount), eur(accountId, 'credit', amount)],
});

const pay = (transactionId: string, from: string, to: string, amount: bigint): LedgerCommand => ({
  type: 'transfer',
  transactionId,
  postings: [eur(from, 'debit', amount), eur(to, 'credit', amount)],
});

const codeOf = (outcome: CommandOutcome | undefined): string => (outcome?.ok ? 'OK' : (outcome?.error.code ?? 'none'));

describe('transactions', () => {
  it('accepts a balanced transaction whole and moves the balances', () => {
    const ledger = economy();
    expect(codeOf(ledger.execute(fund('f1', 'alice', 1000n)))).toBe('OK');
    expect(
      codeOf(
        ledger.execute({
          type: 'transfer',
          transactionId: 'buy-1',
          postings: [eur('alice', 'debit', 300n), eur('shop', 'credit', 290n), eur('fees', 'credit', 10n)],
        }),
      ),
    ).toBe('OK');
    expect(ledger.summary('alice').posted).toBe(700n);
    expect(ledger.summary('shop').posted).toBe(290n);
    expect(ledger.summary('clearing-eur').posted).toBe(1000n);
  });

  it('rejects whole: nothing of a refused transaction is recorded', () => {
    const ledger = economy();
    ledger.execute(fund('f1', 'alice', 100n));
    const outcome = ledger.execute({
      type: 'transfer',
      transactionId: 'overdraw',
      postings: [eur('alice', 'debit', 150n), eur('shop', 'credit', 150n)],
    });
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: 'INSUFFICIENT_FUNDS', message: expect.stringContaining('account alice has 100 EUR available') },
    });
    expect(ledger.journal()).toHaveLength(1);
    expect(ledger.summary('shop').posted).toBe(0n);
  });

  it('lets a merchant with an overdraft limit go below zero down to the limit', () => {
    const ledger = economy();
    expect(codeOf(ledger.execute(pay('p1', 'kiosk', 'shop', 301n)))).toBe('INSUFFICIENT_FUNDS');
    expect(codeOf(ledger.execute(pay('p2', 'kiosk', 'shop', 300n)))).toBe('OK');
    expect(ledger.summary('kiosk').available).toBe(-300n);
  });

  it('refuses currency mismatches, unknown accounts and unbalanced postings', () => {
    const ledger = economy();
    expect(
      codeOf(
        ledger.execute({
          type: 'transfer',
          transactionId: 'x1',
          postings: [eur('clearing-eur', 'debit', 5n), { accountId: 'dave', direction: 'credit', amount: 5n, currency: 'EUR' }],
        }),
      ),
    ).toBe('CURRENCY_MISMATCH');
    expect(codeOf(ledger.execute(pay('x2', 'clearing-eur', 'nobody', 5n)))).toBe('ACCOUNT_NOT_FOUND');
    expect(codeOf(ledger.execute({ type: 'transfer', transactionId: 'x3', postings: [eur('clearing-eur', 'debit', 5n), eur('alice', 'credit', 4n)] }))).toBe(
      'UNBALANCED',
    );
    expect(
      codeOf(ledger.execute({ type: 'transfer', transactionId: 'bad:id', postings: [eur('clearing-eur', 'debit', 5n), eur('alice', 'credit', 5n)] })),
    ).toBe('INVALID_INPUT');
    expect(ledger.journal()).toHaveLength(0);
  });
});

describe('idempotency', () => {
  it('answers a retry with the first result and a changed retry with a conflict', () => {
    const ledger = economy();
    const first = ledger.execute(fund('f1', 'alice', 100n));
    const retry = ledger.execute(fund('f1', 'alice', 100n));
    expect(retry).toEqual({ ok: true, entry: first.ok ? first.entry : undefined, replayed: true });
    expect(codeOf(ledger.execute(fund('f1', 'alice', 101n)))).toBe('IDEMPOTENCY_CONFLICT');
    expect(ledger.journal()).toHaveLength(1);
    expect(ledger.summary('alice').posted).toBe(100n);
  });

  it('treats the same postings in another order as the same request', () => {
    const ledger = economy();
    ledger.execute(fund('f1', 'alice', 100n));
    const reordered = ledger.execute({ type: 'transfer', transactionId: 'f1', postings: [eur('alice', 'credit', 100n), eur('clearing-eur', 'debit', 100n)] });
    expect(reordered).toMatchObject({ ok: true, replayed: true });
  });

  it('replays within one batch too: the same id twice in a group commit gives one entry', () => {
    const ledger = economy();
    const outcomes = ledger.executeBatch([fund('f1', 'alice', 100n), fund('f1', 'alice', 100n), fund('f1', 'alice', 7n)]);
    expect(outcomes.map(codeOf)).toEqual(['OK', 'OK', 'IDEMPOTENCY_CONFLICT']);
    expect(ledger.journal()).toHaveLength(1);
  });
});

describe('group commit', () => {
  it('accepts or rejects each command of a batch on its own, against the balances left by the previous ones', () => {
    const ledger = economy();
    ledger.execute(fund('f1', 'alice', 100n));
    const outcomes = ledger.executeBatch([
      pay('a', 'alice', 'shop', 60n),
      pay('b', 'alice', 'shop', 60n),
      pay('c', 'alice', 'shop', 40n),
      fund('d', 'bob', 5n),
    ]);
    expect(outcomes.map(codeOf)).toEqual(['OK', 'INSUFFICIENT_FUNDS', 'OK', 'OK']);
    expect(ledger.summary('alice').available).toBe(0n);
    expect(ledger.journal().map((e) => e.position)).toEqual([1n, 2n, 3n, 4n]);
  });

  it('never records time going backwards along the chain', () => {
    const clock = new ManualClock();
    const ledger = economy(clock);
    ledger.execute(fund('f1', 'alice', 1n));
    clock.advance(-60_000);
    ledger.execute(fund('f2', 'alice', 1n));
    const [a, b] = ledger.journal();
    expect(b?.recordedAt.getTime()).toBe(a?.recordedAt.getTime());
  });
});
