/**
 * Property-based tests of the ledger rules: random interleavings of valid and invalid
 * transactions, reservations, posts, voids, expiries and reversals, run one by one and in
 * group-committed batches, must keep every invariant the ledger promises.
 */
import fc from 'fast-check';
import { ACCOUNTS, economy, ManualClock } from './__fixtures__/ledger-fixtures';
import { sameBalance, summarize, ZERO_BALANCE } from './balance';
import type { LedgerCommand } from './commands';
import { contentHashOf, transactionIdOf, validateCommand } from './commands';
import type { InMemoryLedger } from './in-memory-ledger';
import { foldBalances } from './in-memory-ledger';
import type { JournalEntry } from './journal-entry';
import { RESOLUTION_KINDS } from './journal-entry';
import type { CommandOutcome } from './ledger-batch';
import type { PostingInput } from './posting';
import { unreversedRemainder } from './reversal';

type Step =
  | { readonly kind: 'one'; readonly command: LedgerCommand }
  | { readonly kind: 'batch'; readonly commands: readonly LedgerCommand[] }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'sweep' };

const ACCOUNT_IDS = [...ACCOUNTS.map((a) => a.id), 'ghost'];
const PEOPLE_EUR = ['alice', 'bob', 'carol', 'shop', 'kiosk', 'charity', 'fees'];
// A small id space on purpose: ids collide, so retries and conflicts happen often.
const txId = fc.constantFrom('t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9', 't10', 't11');
const reservationId = fc.constantFrom('r0', 'r1', 'r2', 'r3', 'r4', 'r5');
const anyRef = fc.oneof(
  txId,
  reservationId,
  reservationId.map((r) => `${r}:post`),
);
const amount = fc.oneof({ weight: 9, arbitrary: fc.bigInt({ min: 1n, max: 1500n }) }, { weight: 1, arbitrary: fc.constantFrom(0n, -5n) });
const currency = fc.constantFrom('EUR', 'EUR', 'EUR', 'USD');
const direction = fc.constantFrom<'debit' | 'credit'>('debit', 'credit');
const metadata = fc.option(fc.dictionary(fc.constantFrom('order', 'note'), fc.string({ maxLength: 5 }), { maxKeys: 2 }), { nil: undefined });

const pair = (from: string, to: string, value: bigint, cur: string): PostingInput[] => [
  { accountId: from, direction: 'debit', amount: value, currency: cur },
  { accountId: to, direction: 'credit', amount: value, currency: cur },
];

const fund = fc
  .record({ id: txId, to: fc.constantFrom(...PEOPLE_EUR, 'dave'), value: amount, metadata })
  .map(({ id, to, value, metadata: m }): LedgerCommand => ({
    type: 'transfer',
    transactionId: id,
    postings: to === 'dave' ? pair('clearing-usd', 'dave', value, 'USD') : pair('clearing-eur', to, value, 'EUR'),
    metadata: m,
  }));

const pay = fc
  .record({ id: txId, from: fc.constantFrom(...ACCOUNT_IDS), to: fc.constantFrom(...ACCOUNT_IDS), value: amount, cur: currency, metadata })
  .map(({ id, from, to, value, cur, metadata: m }): LedgerCommand => ({
    type: 'transfer',
    transactionId: id,
    postings: pair(from, to, value, cur),
    metadata: m,
  }));

const scattered = fc
  .record({
    id: txId,
    postings: fc.array(fc.record({ accountId: fc.constantFrom(...ACCOUNT_IDS), direction, amount, currency }), { minLength: 1, maxLength: 4 }),
  })
  .map(({ id, postings }): LedgerCommand => ({ type: 'transfer', transactionId: id, postings }));

const reserve = fc
  .record({
    id: fc.oneof({ weight: 4, arbitrary: reservationId }, { weight: 1, arbitrary: txId }),
    // Mostly plausible holds (a funded person paying a merchant), sometimes anything at all.
    from: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('alice', 'bob', 'carol') }, { weight: 1, arbitrary: fc.constantFrom(...ACCOUNT_IDS) }),
    to: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('shop', 'charity') }, { weight: 1, arbitrary: fc.constantFrom(...ACCOUNT_IDS) }),
    value: amount,
    cur: fc.oneof({ weight: 4, arbitrary: fc.constant('EUR') }, { weight: 1, arbitrary: currency }),
    ttl: fc.integer({ min: -1000, max: 20_000 }),
  })
  .map(({ id, from, to, value, cur, ttl }) => (now: Date): LedgerCommand => ({
    type: 'reserve',
    transactionId: id,
    debitAccountId: from,
    creditAccountId: to,
    amount: value,
    currency: cur,
    expiresAt: new Date(now.getTime() + ttl),
  }));

const post = fc
  .record({ id: fc.oneof({ weight: 4, arbitrary: reservationId }, { weight: 1, arbitrary: txId }), value: fc.option(amount, { nil: undefined }) })
  .map(({ id, value }): LedgerCommand => ({ type: 'post_reservation', reservationId: id, amount: value }));

const voidHold = reservationId.map((id): LedgerCommand => ({ type: 'void_reservation', reservationId: id }));

const reverse = fc
  .record({
    id: txId,
    target: anyRef,
    part: fc.option(fc.record({ from: fc.constantFrom(...ACCOUNT_IDS), to: fc.constantFrom(...ACCOUNT_IDS), value: amount, cur: currency }), {
      nil: undefined,
    }),
  })
  .map(({ id, target, part }): LedgerCommand => ({
    type: 'reverse',
    transactionId: id,
    reverses: target,
    postings: part ? pair(part.from, part.to, part.value, part.cur) : undefined,
  }));

/** Commands that depend on the clock (expiry) are built when the step runs. */
type CommandAt = (now: Date) => LedgerCommand;
const commandAt: fc.Arbitrary<CommandAt> = fc.oneof(
  { weight: 4, arbitrary: fund.map((c) => () => c) },
  { weight: 4, arbitrary: pay.map((c) => () => c) },
  { weight: 1, arbitrary: scattered.map((c) => () => c) },
  { weight: 3, arbitrary: reserve },
  { weight: 2, arbitrary: post.map((c) => () => c) },
  { weight: 1, arbitrary: voidHold.map((c) => () => c) },
  { weight: 2, arbitrary: reverse.map((c) => () => c) },
);

/** A step is built when it runs: it may depend on the clock and on the commands sent before. */
type StepAt = (now: Date, history: readonly LedgerCommand[], journal: readonly JournalEntry[]) => Step;
const stepAt: fc.Arbitrary<StepAt> = fc.oneof(
  { weight: 6, arbitrary: commandAt.map((c) => (now: Date): Step => ({ kind: 'one', command: c(now) })) },
  {
    weight: 3,
    arbitrary: fc.array(commandAt, { minLength: 2, maxLength: 8 }).map((cs) => (now: Date): Step => ({ kind: 'batch', commands: cs.map((c) => c(now)) })),
  },
  // A client retrying an earlier request, byte for byte.
  {
    weight: 2,
    arbitrary: fc.nat().map((n) => (_now: Date, history: readonly LedgerCommand[]): Step => {
      const command = history[n % Math.max(history.length, 1)];
      return command ? { kind: 'one', command } : { kind: 'sweep' };
    }),
  },
  // A refund of part of an existing transaction: sometimes within what is left, sometimes beyond.
  {
    weight: 2,
    arbitrary: fc
      .record({ id: txId, n: fc.nat(), eighths: fc.integer({ min: 1, max: 12 }) })
      .map(({ id, n, eighths }) => (_now: Date, _history: readonly LedgerCommand[], journal: readonly JournalEntry[]): Step => {
        const original = journal[n % Math.max(journal.length, 1)];
        const posted = original?.postings.filter((p) => p.layer === 'posted') ?? [];
        if (!original || posted.length !== 2) return { kind: 'sweep' };
        const postings = posted.map((p) => ({
          accountId: p.accountId,
          direction: p.direction === 'debit' ? ('credit' as const) : ('debit' as const),
          amount: (p.amount * BigInt(eighths)) / 8n,
          currency: p.currency,
        }));
        return { kind: 'one', command: { type: 'reverse', transactionId: id, reverses: original.transactionId, postings } };
      }),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 8000 }).map((ms) => (): Step => ({ kind: 'advance', ms })) },
  { weight: 1, arbitrary: fc.constant((): Step => ({ kind: 'sweep' })) },
);

// 'max' size: long histories, where holds get posted late and refunds pile up.
const scenario = fc.array(stepAt, { minLength: 1, maxLength: 80, size: 'max' });

function isValid(command: LedgerCommand): boolean {
  try {
    validateCommand(command);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs a scenario and returns every outcome. `serial` runs the commands of a batch one by one
 * instead of as one group commit; `check` asserts the invariants after every step.
 */
function run(steps: readonly StepAt[], ledger: InMemoryLedger, clock: ManualClock, options: { check: boolean; serial?: boolean }): string[] {
  const trace: string[] = [];
  const firstResult = new Map<string, JournalEntry>();
  const history: LedgerCommand[] = [];
  for (const make of steps) {
    const step = make(clock.now(), history, ledger.journal());
    const journalBefore = ledger.journal().length;
    let outcomes: CommandOutcome[] = [];
    let commands: readonly LedgerCommand[] = [];
    if (step.kind === 'advance') clock.advance(step.ms);
    else if (step.kind === 'sweep') outcomes = ledger.expireDue();
    else {
      commands = step.kind === 'one' ? [step.command] : step.commands;
      history.push(...commands);
      outcomes = options.serial ? commands.flatMap((command) => ledger.executeBatch([command])) : ledger.executeBatch(commands);
    }
    trace.push(...outcomes.map((o) => (o.ok ? `ok:${o.entry.position}:${o.replayed}` : o.error.code)));
    if (!options.check) continue;
    outcomes.forEach((outcome, i) => {
      const command = commands[i];
      const earlier = command && firstResult.get(transactionIdOf(command));
      // The same id with other content is a conflict, never a replay.
      if (command && earlier && isValid(command) && contentHashOf(validateCommand(command)) !== earlier.contentHash) {
        expect(outcome.ok ? 'OK' : outcome.error.code).toBe('IDEMPOTENCY_CONFLICT');
      }
      if (!outcome.ok) return;
      const first = firstResult.get(outcome.entry.transactionId);
      // A retry returns the first result, never a second entry.
      if (first) expect([outcome.replayed, outcome.entry.hash]).toEqual([true, first.hash]);
      else firstResult.set(outcome.entry.transactionId, outcome.entry);
      if (commands[i]) expect(transactionIdOf(commands[i])).toBe(outcome.entry.transactionId);
    });
    if (step.kind === 'one' && outcomes[0] && !outcomes[0].ok) {
      // Rejected whole: nothing was written, except the release of a hold found expired.
      const added = ledger.journal().slice(journalBefore);
      expect(added.every((e) => e.kind === 'expire_pending')).toBe(true);
      if (outcomes[0].error.code !== 'RESERVATION_EXPIRED') expect(added).toHaveLength(0);
    }
    assertInvariants(ledger);
  }
  return trace;
}

function assertInvariants(ledger: InMemoryLedger): void {
  const journal = ledger.journal();

  // Double entry: every currency's postings sum to zero, in every layer.
  const sums = new Map<string, bigint>();
  for (const posting of journal.flatMap((e) => e.postings)) {
    const key = `${posting.currency}/${posting.layer}`;
    sums.set(key, (sums.get(key) ?? 0n) + (posting.direction === 'debit' ? posting.amount : -posting.amount));
  }
  for (const [key, sum] of sums) expect([key, sum]).toEqual([key, 0n]);

  // Balance guards: no guarded account's available balance is ever below its minimum.
  for (const account of ledger.allAccounts()) {
    if (account.minBalance === null) continue;
    expect(summarize(account.normalSide, ledger.balance(account.id)).available >= account.minBalance).toBe(true);
  }

  // Rebuilt balances (a fold of the journal) equal the maintained ones.
  const rebuilt = foldBalances(journal);
  for (const account of ledger.allAccounts()) {
    expect(sameBalance(rebuilt.get(account.id) ?? ZERO_BALANCE, ledger.balance(account.id))).toBe(true);
  }

  // Ids are unique, each hold is resolved at most once, and what is pending is what is held.
  const ids = journal.map((e) => e.transactionId);
  expect(new Set(ids).size).toBe(ids.length);
  const resolutions = journal.filter((e) => RESOLUTION_KINDS.includes(e.kind)).map((e) => e.reservationId);
  expect(new Set(resolutions).size).toBe(resolutions.length);
  const open = journal.filter((e) => e.kind === 'reserve' && !resolutions.includes(e.transactionId));
  const held = open.reduce((total, e) => total + (e.postings[0]?.amount ?? 0n), 0n);
  const pending = [...ledger.maintainedBalances().values()].reduce((total, b) => total + b.debitsPending, 0n);
  expect(pending).toBe(held);

  // A post moves at most what was held.
  for (const post of journal.filter((e) => e.kind === 'post_pending')) {
    const held = post.postings.find((p) => p.layer === 'released')?.amount ?? 0n;
    const moved = post.postings.find((p) => p.layer === 'posted')?.amount ?? 0n;
    expect(moved <= held).toBe(true);
  }

  // No part of a transaction is reversed more than once.
  for (const original of journal) {
    const reversals = journal.filter((e) => e.reverses === original.transactionId);
    if (reversals.length === 0) continue;
    for (const left of unreversedRemainder(original, reversals).values()) expect(left.amount >= 0n).toBe(true);
  }

  // The chain verifies.
  expect(ledger.verify()).toEqual({ ok: true, entries: BigInt(journal.length) });
}

describe('ledger properties', () => {
  it('random interleavings keep postings at zero per currency, guards intact and rebuilt balances equal', () => {
    fc.assert(
      fc.property(scenario, (steps) => {
        const clock = new ManualClock();
        run(steps, economy(clock), clock, { check: true });
      }),
      { numRuns: 150 },
    );
  });

  it('a group-committed batch gives exactly what running its commands one by one gives', () => {
    fc.assert(
      fc.property(scenario, (steps) => {
        const batchedClock = new ManualClock();
        const batched = economy(batchedClock);
        const serialClock = new ManualClock();
        const serial = economy(serialClock);
        expect(run(steps, serial, serialClock, { check: false, serial: true })).toEqual(run(steps, batched, batchedClock, { check: false }));
        expect(serial.journal().map((e) => e.hash)).toEqual(batched.journal().map((e) => e.hash));
        for (const account of serial.allAccounts()) expect(serial.balance(account.id)).toEqual(batched.balance(account.id));
      }),
      { numRuns: 200 },
    );
  });

  it('generates interesting histories (guards, conflicts, holds and reversals all happen)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(scenario, (steps) => {
        const clock = new ManualClock();
        const ledger = economy(clock);
        run(steps, ledger, clock, { check: false }).forEach((t) => seen.add(t.startsWith('ok:') ? (t.endsWith('true') ? 'REPLAY' : 'OK') : t));
        ledger.journal().forEach((e) => seen.add(e.kind));
      }),
      { numRuns: 100, seed: 42 },
    );
    for (const expected of [
      'OK',
      'REPLAY',
      'INSUFFICIENT_FUNDS',
      'REVERSAL_EXCEEDS_ORIGINAL',
      'RESERVATION_EXPIRED',
      'AMOUNT_EXCEEDS_RESERVATION',
      'IDEMPOTENCY_CONFLICT',
      'UNBALANCED',
      'CURRENCY_MISMATCH',
      'reserve',
      'post_pending',
      'void_pending',
      'expire_pending',
      'reversal',
    ]) {
      expect(seen).toContain(expected);
    }
  });
});
