import type { Account } from './account';
import type { Balance } from './balance';
import { applyToBalance, guardViolation } from './balance';
import type { LedgerCommand, ReservationResolution, ValidatedCommand } from './commands';
import { contentHashOf, resolutionTransactionId, transactionIdOf, validateCommand } from './commands';
import { invalidInput, LedgerError } from './errors';
import { GENESIS_HASH, hashEntry } from './hash-chain';
import type { EntryKind, JournalEntry, UnhashedEntry } from './journal-entry';
import type { Posting } from './posting';
import { assertAccountsMatch, assertBalanced, withLayer } from './posting';
import type { Reservation } from './reservation';
import { assertNotExpired, planExpire, planPost, planVoid, reservationOf, reservePostings } from './reservation';
import { planReversal } from './reversal';
import type { Metadata } from './values';

/**
 * What the ledger already holds, as far as a batch needs it. The PostgreSQL store loads it for
 * the ids and accounts a batch touches (after taking its locks); the in-memory ledger serves it
 * from maps. The same rules then run on both.
 */
export interface LedgerView {
  account(id: string): Account | undefined;
  /** The committed balance of an account that `account()` returned. */
  balance(accountId: string): Balance;
  entry(transactionId: string): JournalEntry | undefined;
  reversalsOf(transactionId: string): readonly JournalEntry[];
}

/** The end of the hash chain: the last entry's position, hash and time. */
export interface ChainHead {
  readonly position: bigint;
  readonly hash: string;
  readonly recordedAt: Date | null;
}

export const GENESIS_HEAD: ChainHead = Object.freeze({ position: 0n, hash: GENESIS_HASH, recordedAt: null });

export type CommandOutcome =
  { readonly ok: true; readonly entry: JournalEntry; readonly replayed: boolean } | { readonly ok: false; readonly error: LedgerError };

/** An entry appended by the batch, with the tracing context of the command that caused it. */
export interface AppendedEntry {
  readonly entry: JournalEntry;
  readonly correlationId?: string;
  readonly causationId?: string;
}

interface Draft {
  readonly kind: EntryKind;
  readonly postings: readonly Posting[];
  readonly reservationId: string | null;
  readonly expiresAt: Date | null;
  readonly reverses: string | null;
}

/**
 * The ledger's state machine for one group-committed batch. Commands run one after the other
 * against the balances as they stand after the previous commands of the batch, so each one is
 * accepted or rejected on its own (a rejected command leaves no trace) and the batch as a whole
 * is exactly what running them one by one would give. Accepted entries get consecutive
 * positions after `head` and are chained by hash.
 */
export class LedgerBatch {
  /** All entries of the batch share one timestamp, never earlier than the chain's last one. */
  readonly recordedAt: Date;
  private currentHead: ChainHead;
  private readonly appendedEntries: AppendedEntry[] = [];
  private readonly byTransactionId = new Map<string, JournalEntry>();
  private readonly reversals = new Map<string, JournalEntry[]>();
  private readonly balances = new Map<string, Balance>();

  constructor(
    private readonly view: LedgerView,
    head: ChainHead,
    now: Date,
  ) {
    this.currentHead = head;
    // Monotonic time along the chain makes "balance as of time T" the same as "as of position N".
    this.recordedAt = head.recordedAt !== null && head.recordedAt.getTime() > now.getTime() ? head.recordedAt : now;
  }

  get head(): ChainHead {
    return this.currentHead;
  }

  get appended(): readonly AppendedEntry[] {
    return this.appendedEntries;
  }

  /** Balances changed by the batch, as they stand after it. */
  get changedBalances(): ReadonlyMap<string, Balance> {
    return this.balances;
  }

  execute(command: LedgerCommand): CommandOutcome {
    try {
      return this.apply(validateCommand(command));
    } catch (error) {
      if (error instanceof LedgerError) return { ok: false, error };
      throw error;
    }
  }

  /** execute for a command validated already (the store validates each one as it is submitted). */
  executeValidated(command: ValidatedCommand): CommandOutcome {
    try {
      return this.apply(command);
    } catch (error) {
      if (error instanceof LedgerError) return { ok: false, error };
      throw error;
    }
  }

  private apply(command: LedgerCommand): CommandOutcome {
    const transactionId = transactionIdOf(command);
    const contentHash = contentHashOf(command);
    const existing = this.entry(transactionId);
    if (existing) {
      if (existing.contentHash === contentHash) return { ok: true, entry: existing, replayed: true };
      throw new LedgerError(
        'IDEMPOTENCY_CONFLICT',
        `transaction ${transactionId} was already recorded with different content; a new transaction needs a new id`,
        { transactionId },
      );
    }
    const draft = this.plan(command);
    assertAccountsMatch(draft.postings, (id) => this.view.account(id));
    assertBalanced(draft.postings);
    const after = this.balancesAfter(draft.postings);
    const metadata: Metadata = 'metadata' in command ? (command.metadata ?? {}) : {};
    const entry = this.append(transactionId, contentHash, metadata, draft, after);
    const context = 'correlationId' in command ? { correlationId: command.correlationId, causationId: command.causationId } : {};
    this.appendedEntries.push({ entry, ...context });
    return { ok: true, entry, replayed: false };
  }

  private plan(command: LedgerCommand): Draft {
    const none = { reservationId: null, expiresAt: null, reverses: null };
    switch (command.type) {
      case 'transfer':
        return { ...none, kind: 'transfer', postings: withLayer(command.postings, 'posted') };
      case 'reverse': {
        const original = this.entry(command.reverses);
        if (!original) {
          throw new LedgerError('TRANSACTION_NOT_FOUND', `transaction ${command.reverses} does not exist, so it cannot be reversed`, {
            transactionId: command.reverses,
          });
        }
        const postings = planReversal(original, this.reversalsOf(original.transactionId), command.postings);
        return { ...none, kind: 'reversal', postings, reverses: original.transactionId };
      }
      case 'reserve':
        if (command.expiresAt.getTime() <= this.recordedAt.getTime()) {
          throw invalidInput(`expiresAt must be in the future (now ${this.recordedAt.toISOString()})`);
        }
        return {
          ...none,
          kind: 'reserve',
          postings: reservePostings(command.debitAccountId, command.creditAccountId, command.amount, command.currency),
          reservationId: command.transactionId,
          expiresAt: command.expiresAt,
        };
      case 'post_reservation': {
        const reservation = this.pendingOrExpireLazily(command.reservationId);
        return { ...none, kind: 'post_pending', postings: planPost(reservation, command.amount, this.recordedAt), reservationId: reservation.id };
      }
      case 'void_reservation': {
        const reservation = this.pendingOrExpireLazily(command.reservationId);
        return { ...none, kind: 'void_pending', postings: planVoid(reservation, this.recordedAt), reservationId: reservation.id };
      }
      case 'expire_reservation': {
        const reservation = this.reservation(command.reservationId);
        return { ...none, kind: 'expire_pending', postings: planExpire(reservation, this.recordedAt), reservationId: reservation.id };
      }
    }
  }

  /**
   * A post or void that arrives after the expiry is refused, and the hold is released right
   * away instead of waiting for the sweeper: an expired reservation is voided, exactly once.
   */
  private pendingOrExpireLazily(reservationId: string): Reservation {
    const reservation = this.reservation(reservationId);
    try {
      assertNotExpired(reservation, this.recordedAt);
    } catch (error) {
      this.execute({ type: 'expire_reservation', reservationId });
      throw error;
    }
    return reservation;
  }

  private reservation(reservationId: string): Reservation {
    const reserve = this.entry(reservationId);
    if (!reserve || reserve.kind !== 'reserve') {
      throw new LedgerError('RESERVATION_NOT_FOUND', `reservation ${reservationId} does not exist`, { reservationId });
    }
    const resolutions: ReservationResolution[] = ['post', 'void', 'expire'];
    const resolution = resolutions.map((r) => this.entry(resolutionTransactionId(reservationId, r))).find((e) => e !== undefined);
    return reservationOf(reserve, resolution);
  }

  /** Applies the postings to the current balances and checks every guard; changes nothing. */
  private balancesAfter(postings: readonly Posting[]): Map<string, Balance> {
    const after = new Map<string, Balance>();
    for (const posting of postings) {
      after.set(posting.accountId, applyToBalance(after.get(posting.accountId) ?? this.balanceOf(posting.accountId), posting));
    }
    for (const [accountId, balance] of after) {
      const violation = guardViolation(this.view.account(accountId) as Account, this.balanceOf(accountId), balance);
      if (violation) throw violation;
    }
    return after;
  }

  private append(transactionId: string, contentHash: string, metadata: Metadata, draft: Draft, after: Map<string, Balance>): JournalEntry {
    const unhashed: UnhashedEntry = {
      position: this.currentHead.position + 1n,
      transactionId,
      kind: draft.kind,
      postings: draft.postings,
      reservationId: draft.reservationId,
      expiresAt: draft.expiresAt,
      reverses: draft.reverses,
      metadata,
      contentHash,
      recordedAt: this.recordedAt,
      prevHash: this.currentHead.hash,
    };
    const entry: JournalEntry = { ...unhashed, hash: hashEntry(unhashed) };
    this.currentHead = { position: entry.position, hash: entry.hash, recordedAt: entry.recordedAt };
    this.byTransactionId.set(transactionId, entry);
    if (entry.reverses !== null) this.reversals.set(entry.reverses, [...(this.reversals.get(entry.reverses) ?? []), entry]);
    for (const [accountId, balance] of after) this.balances.set(accountId, balance);
    return entry;
  }

  private entry(transactionId: string): JournalEntry | undefined {
    return this.byTransactionId.get(transactionId) ?? this.view.entry(transactionId);
  }

  private reversalsOf(transactionId: string): readonly JournalEntry[] {
    return [...this.view.reversalsOf(transactionId), ...(this.reversals.get(transactionId) ?? [])];
  }

  private balanceOf(accountId: string): Balance {
    return this.balances.get(accountId) ?? this.view.balance(accountId);
  }
}
