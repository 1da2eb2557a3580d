/**
 * Model-based property test: random histories of valid and invalid commands, sent one at a
 * time and as concurrent groups (which group commit turns into one transaction), must give on
 * PostgreSQL exactly the outcomes and balances of the in-memory model that runs the same rules.
 * Afterwards the journal verifies, sums to zero per currency, and rebuilt balances equal the
 * maintained ones.
 */
import fc from 'fast-check';
import type { Clock, CommandOutcome, LedgerCommand, OpenAccountInput } from '@pay/ledger-domain';
import { InMemoryLedger, isLedgerError } from '@pay/ledger-domain';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { DataSource } from 'typeorm';
import { LEDGER_MIGRATIONS, PostgresLedger } from './index';

/** One clock for model and store; it only moves forward, across runs too (the chain's time is monotonic). */
class SharedClock implements Clock {
  private at = new Date('2026-06-01T00:00:00.000Z').getTime();
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

const ACCOUNTS: readonly OpenAccountInput[] = [
  { id: 'alice', ownerType: 'person', ownerId: 'alice', currency: 'EUR' },
  { id: 'bob', ownerType: 'person', ownerId: 'bob', currency: 'EUR' },
  { id: 'shop', ownerType: 'merchant', ownerId: 'shop', currency: 'EUR', minBalance: -200n },
  { id: 'dave', ownerType: 'person', ownerId: 'dave', currency: 'USD' },
  { id: 'clearing', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' },
  { id: 'clearing-usd', ownerType: 'system', ownerId: 'psp', currency: 'USD', normalSide: 'debit' },
];

// Commands are generated with short ids and prefixed per run, so runs share one schema.
type Template = (prefix: string, now: Date) => LedgerCommand;
const account = fc.constantFrom('alice', 'bob', 'shop', 'dave', 'clearing', 'clearing-usd');
const txId = fc.constantFrom('t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8');
const holdId = fc.constantFrom('h1', 'h2', 'h3');
const amount = fc.bigInt({ min: 1n, max: 900n });
const currency = fc.constantFrom('EUR', 'EUR', 'EUR', 'USD');

const transfer = fc.record({ id: txId, from: account, to: account, value: amount, cur: currency }).map(({ id, from, to, value, cur }): Template => (p) => ({
  type: 'transfer',
  transactionId: p + id,
  postings: [
    { accountId: p + from, direction: 'debit', amount: value, currency: cur },
    { accountId: p + to, direction: 'credit', amount: value, currency: cur },
  ],
}));
const fund = fc.record({ id: txId, to: fc.constantFrom('alice', 'bob'), value: amount }).map(({ id, to, value }): Template => (p) => ({
  type: 'transfer',
  transactionId: p + id,
  postings: [
    { accountId: `${p}clearing`, direction: 'debit', amount: value, currency: 'EUR' },
    { accountId: p + to, direction: 'credit', amount: value, currency: 'EUR' },
  ],
}));
const reserve = fc
  .record({ id: holdId, from: fc.constantFrom('alice', 'bob', 'shop'), value: amount, ttl: fc.integer({ min: 1, max: 5_000 }) })
  .map(({ id, from, value, ttl }): Template => (p, now) => ({
    type: 'reserve',
    transactionId: p + id,
    debitAccountId: p + from,
    creditAccountId: `${p}shop`,
    amount: value,
    currency: 'EUR',
    expiresAt: new Date(now.getTime() + ttl),
  }));
const post = fc
  .record({ id: holdId, value: fc.option(amount, { nil: undefined }) })
  .map(({ id, value }): Template => (p) => ({ type: 'post_reservation', reservationId: p + id, amount: value }));
const voidHold = holdId.map((id): Template => (p) => ({ type: 'void_reservation', reservationId: p + id }));
const reverse = fc
  .record({
    id: txId,
    target: fc.oneof(
      txId,
      holdId.map((h) => `${h}:post`),
    ),
  })
  .map(({ id, target }): Template => (p) => ({ type: 'reverse', transactionId: p + id, reverses: p + target }));
const command = fc.oneof(transfer, fund, fund, reserve, post, voidHold, reverse);

type Step =
  | { readonly kind: 'one'; readonly command: Template }
  | { readonly kind: 'concurrent'; readonly commands: readonly Template[] }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'sweep' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: command.map((c): Step => ({ kind: 'one', command: c })) },
  { weight: 3, arbitrary: fc.array(command, { minLength: 2, maxLength: 12 }).map((cs): Step => ({ kind: 'concurrent', commands: cs })) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 4_000 }).map((ms): Step => ({ kind: 'advance', ms })) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'sweep' }) },
);

const codeOfOutcome = (o: CommandOutcome): string => (o.ok ? `ok:${o.entry.transactionId}:${o.replayed}:${o.entry.kind}` : o.error.code);

describe('the PostgreSQL ledger against its in-memory model', () => {
  let schema: TestSchema;
  let ledger: PostgresLedger;
  let second: DataSource;
  let other: PostgresLedger;
  const clock = new SharedClock();
  let run = 0;

  beforeAll(async () => {
    schema = await createTestSchema('ledger_model', LEDGER_MIGRATIONS);
    ledger = new PostgresLedger(schema.dataSource, { clock });
    // A second instance with its own pool, for histories sent by two processes at once.
    second = new DataSource(schema.dataSource.options);
    await second.initialize();
    other = new PostgresLedger(second, { clock, groupCommit: { maxBatchSize: 8 } });
  });

  afterAll(async () => {
    await Promise.all([ledger.close(), other.close()]);
    await second.destroy();
    await schema.drop();
  });

  const openRunAccounts = async (prefix: string): Promise<void> => {
    for (const input of ACCOUNTS) await ledger.openAccount({ ...input, id: prefix + input.id, ownerId: prefix + input.ownerId });
  };

  /** The store's answer as the model would give it (a malformed command rejects before batching). */
  const submit = (c: LedgerCommand): Promise<string> =>
    ledger.submit(c).then(codeOfOutcome, (error: unknown) => {
      if (isLedgerError(error)) return error.code;
      throw error;
    });

  it('gives the same outcomes and balances for random histories, one by one and grouped', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40, size: 'max' }), async (steps) => {
        const prefix = `run${++run}.`;
        clock.advance(60_000);
        const model = new InMemoryLedger(clock);
        for (const input of ACCOUNTS) model.openAccount(input);
        await openRunAccounts(prefix);
        for (const s of steps) {
          if (s.kind === 'advance') {
            clock.advance(s.ms);
          } else if (s.kind === 'sweep') {
            model.expireDue();
            await ledger.expireDueReservations();
          } else {
            const templates = s.kind === 'one' ? [s.command] : s.commands;
            const now = clock.now();
            const expected = model.executeBatch(templates.map((t) => t('', now))).map(codeOfOutcome);
            // Submitted in the same tick: group commit runs them as one batch, in this order.
            const actual = await Promise.all(templates.map((t) => submit(t(prefix, now))));
            expect(actual.map((a) => a.replace(prefix, '').replace(prefix, ''))).toEqual(expected);
          }
        }
        for (const input of ACCOUNTS) {
          expect((await ledger.balance(prefix + input.id)).totals).toEqual(model.balance(input.id));
        }
      }),
      { numRuns: 25 },
    );
    await assertJournalInvariants();
  });

  it('keeps every invariant when random histories race from two instances at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 20, maxLength: 80, size: 'max' }),
        fc.array(command, { minLength: 20, maxLength: 80, size: 'max' }),
        async (mine, theirs) => {
          const prefix = `race${++run}.`;
          clock.advance(60_000);
          await openRunAccounts(prefix);
          const send = (instance: PostgresLedger, templates: readonly Template[]) =>
            Promise.all(templates.map((t) => instance.submit(t(prefix, clock.now())).then((o) => (o.ok ? 'OK' : o.error.code))));
          const answers = (await Promise.all([send(ledger, mine), send(other, theirs), ledger.expireDueReservations()])).slice(0, 2).flat();
          // Whatever interleaving happened, each answer is an outcome of the rules, never a failure.
          expect(answers.every((a) => typeof a === 'string')).toBe(true);
          // Balance guards held (people at 0, the shop within its overdraft).
          for (const input of ACCOUNTS.filter((a) => a.ownerType !== 'system')) {
            expect((await ledger.balance(prefix + input.id)).available >= (input.minBalance ?? 0n)).toBe(true);
          }
        },
      ),
      { numRuns: 15 },
    );
    await assertJournalInvariants();
  });

  /** Double entry per currency, one resolution per hold, unique ids, a verified chain, no drift. */
  async function assertJournalInvariants(): Promise<void> {
    const sums = await schema.dataSource.query<Array<{ net: string }>>(
      `SELECT sum(CASE direction WHEN 'debit' THEN amount ELSE -amount END)::text AS net FROM postings GROUP BY currency, layer`,
    );
    expect(sums.length).toBeGreaterThan(0);
    expect(sums.every((r) => r.net === '0')).toBe(true);
    const [twice] = await schema.dataSource.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM (SELECT reservation_id FROM journal_entries WHERE kind <> 'reserve' AND reservation_id IS NOT NULL
        GROUP BY reservation_id HAVING count(*) > 1) x`,
    );
    expect(twice?.n).toBe(0);
    expect(await ledger.balanceDrift()).toEqual([]);
    expect((await ledger.verify()).ok).toBe(true);
  }
});
