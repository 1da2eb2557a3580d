import type { Account, OpenAccountInput } from './account';
import { defineAccount, sameAccountDefinition } from './account';
import type { Balance, BalanceSummary } from './balance';
import { applyToBalance, summarize, ZERO_BALANCE } from './balance';
import type { Clock } from './clock';
import { systemClock } from './clock';
import type { LedgerCommand, ReservationResolution } from './commands';
import { resolutionTransactionId } from './commands';
import { LedgerError } from './errors';
import type { ChainBreak } from './hash-chain';
import { ChainVerifier } from './hash-chain';
import type { JournalEntry } from './journal-entry';
import type { ChainHead, CommandOutcome, LedgerView } from './ledger-batch';
import { GENESIS_HEAD, LedgerBatch } from './ledger-batch';
import { isDue, reservationOf } from './reservation';

/** Recomputes every account's balance from the journal alone (what rebuild-balances does in SQL). */
export function foldBalances(entries: Iterable<JournalEntry>): Map<string, Balance> {
  const balances = new Map<string, Balance>();
  for (const entry of entries) {
    for (const posting of entry.postings) {
      balances.set(posting.accountId, applyToBalance(balances.get(posting.accountId) ?? ZERO_BALANCE, posting));
    }
  }
  return balances;
}

export type ChainVerification = { readonly ok: true; readonly entries: bigint } | ({ readonly ok: false; readonly entries: bigint } & ChainBreak);

export function verifyEntries(entries: Iterable<JournalEntry>): ChainVerification {
  const verifier = new ChainVerifier();
  for (const entry of entries) {
    const broken = verifier.check(entry);
    if (broken) return { ok: false, entries: verifier.verified, ...broken };
  }
  return { ok: true, entries: verifier.verified };
}

/**
 * The ledger held in memory, running the same LedgerBatch rules as the PostgreSQL store. It is
 * the model of the property tests and a fake for services that need a ledger in unit tests.
 */
export class InMemoryLedger {
  private readonly accounts = new Map<string, Account>();
  private readonly balances = new Map<string, Balance>();
  private readonly entries: JournalEntry[] = [];
  private readonly byTransactionId = new Map<string, JournalEntry>();
  private readonly reversals = new Map<string, JournalEntry[]>();
  private chainHead: ChainHead = GENESIS_HEAD;

  constructor(private readonly clock: Clock = systemClock) {}

  openAccount(input: OpenAccountInput): Account {
    const account = defineAccount(input);
    const existing = this.accounts.get(account.id);
    if (existing) {
      if (sameAccountDefinition(existing, account)) return existing;
      throw new LedgerError('IDEMPOTENCY_CONFLICT', `account ${account.id} already exists with a different definition`, { accountId: account.id });
    }
    this.accounts.set(account.id, account);
    this.balances.set(account.id, ZERO_BALANCE);
    return account;
  }

  execute(command: LedgerCommand): CommandOutcome {
    return this.executeBatch([command])[0];
  }

  /** Runs commands as one group commit: each accepted or rejected on its own. */
  executeBatch(commands: readonly LedgerCommand[]): CommandOutcome[] {
    const batch = new LedgerBatch(this.view(), this.chainHead, this.clock.now());
    const outcomes = commands.map((command) => batch.execute(command));
    for (const { entry } of batch.appended) {
      this.entries.push(entry);
      this.byTransactionId.set(entry.transactionId, entry);
      if (entry.reverses !== null) this.reversals.set(entry.reverses, [...(this.reversals.get(entry.reverses) ?? []), entry]);
    }
    for (const [accountId, balance] of batch.changedBalances) this.balances.set(accountId, balance);
    this.chainHead = batch.head;
    return outcomes;
  }

  /** Releases every hold past its expiry, as the store's sweeper does. */
  expireDue(): CommandOutcome[] {
    const now = this.clock.now();
    const due = this.entries
      .filter((e) => e.kind === 'reserve')
      .map((e) => reservationOf(e, this.resolutionOf(e.transactionId)))
      .filter((r) => r.status === 'pending' && isDue(r, now));
    return this.executeBatch(due.map((r) => ({ type: 'expire_reservation', reservationId: r.id })));
  }

  account(id: string): Account | undefined {
    return this.accounts.get(id);
  }

  allAccounts(): Account[] {
    return [...this.accounts.values()];
  }

  balance(accountId: string): Balance {
    const balance = this.balances.get(accountId);
    if (!balance) throw new LedgerError('ACCOUNT_NOT_FOUND', `account ${accountId} does not exist`, { accountId });
    return balance;
  }

  summary(accountId: string): BalanceSummary {
    return summarize((this.accounts.get(accountId) as Account).normalSide, this.balance(accountId));
  }

  maintainedBalances(): ReadonlyMap<string, Balance> {
    return this.balances;
  }

  journal(): readonly JournalEntry[] {
    return this.entries;
  }

  head(): ChainHead {
    return this.chainHead;
  }

  verify(): ChainVerification {
    return verifyEntries(this.entries);
  }

  private resolutionOf(reservationId: string): JournalEntry | undefined {
    const resolutions: ReservationResolution[] = ['post', 'void', 'expire'];
    return resolutions.map((r) => this.byTransactionId.get(resolutionTransactionId(reservationId, r))).find((e) => e !== undefined);
  }

  private view(): LedgerView {
    return {
      account: (id) => this.accounts.get(id),
      balance: (id) => this.balances.get(id) ?? ZERO_BALANCE,
      entry: (id) => this.byTransactionId.get(id),
      reversalsOf: (id) => this.reversals.get(id) ?? [],
    };
  }
}
