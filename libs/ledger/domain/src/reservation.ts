import { LedgerError } from './errors';
import type { EntryKind, JournalEntry } from './journal-entry';
import type { Posting } from './posting';

export type ReservationStatus = 'pending' | 'posted' | 'voided' | 'expired';

/** A hold of a two-phase transfer: one amount, from one account to another, until expiry. */
export interface Reservation {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly expiresAt: Date;
  readonly status: ReservationStatus;
  /** The transaction id of the post, void or expiry that resolved it. */
  readonly resolvedBy: string | null;
  readonly postedAmount: bigint | null;
}

const STATUS_OF_RESOLUTION: Partial<Record<EntryKind, ReservationStatus>> = {
  post_pending: 'posted',
  void_pending: 'voided',
  expire_pending: 'expired',
};

/** Rebuilds a reservation's state from its reserve entry and its resolution, if any. */
export function reservationOf(reserve: JournalEntry, resolution: JournalEntry | undefined): Reservation {
  const debit = reserve.postings.find((p) => p.layer === 'pending' && p.direction === 'debit');
  const credit = reserve.postings.find((p) => p.layer === 'pending' && p.direction === 'credit');
  if (reserve.kind !== 'reserve' || !debit || !credit || reserve.expiresAt === null) {
    throw new Error(`journal entry ${reserve.transactionId} is not a well-formed reservation`);
  }
  const status = resolution ? STATUS_OF_RESOLUTION[resolution.kind] : 'pending';
  if (!status) throw new Error(`journal entry ${resolution?.transactionId} does not resolve a reservation`);
  const posted = resolution?.postings.find((p) => p.layer === 'posted' && p.direction === 'debit');
  return {
    id: reserve.transactionId,
    debitAccountId: debit.accountId,
    creditAccountId: credit.accountId,
    amount: debit.amount,
    currency: debit.currency,
    expiresAt: reserve.expiresAt,
    status,
    resolvedBy: resolution?.transactionId ?? null,
    postedAmount: posted?.amount ?? null,
  };
}

export function reservePostings(debitAccountId: string, creditAccountId: string, amount: bigint, currency: string): Posting[] {
  return [
    { accountId: debitAccountId, direction: 'debit', amount, currency, layer: 'pending' },
    { accountId: creditAccountId, direction: 'credit', amount, currency, layer: 'pending' },
  ];
}

function releasePostings(reservation: Reservation): Posting[] {
  const { debitAccountId, creditAccountId, amount, currency } = reservation;
  return [
    { accountId: debitAccountId, direction: 'debit', amount, currency, layer: 'released' },
    { accountId: creditAccountId, direction: 'credit', amount, currency, layer: 'released' },
  ];
}

/** Whether the hold is past its expiry at `at` (expiry is inclusive: at expiresAt it is gone). */
export function isDue(reservation: Reservation, at: Date): boolean {
  return at.getTime() >= reservation.expiresAt.getTime();
}

function assertStillPending(reservation: Reservation): void {
  if (reservation.status === 'pending') return;
  if (reservation.status === 'expired') {
    throw new LedgerError('RESERVATION_EXPIRED', `reservation ${reservation.id} expired at ${reservation.expiresAt.toISOString()} and was released`, {
      reservationId: reservation.id,
    });
  }
  throw new LedgerError('RESERVATION_NOT_PENDING', `reservation ${reservation.id} is already ${reservation.status} (by ${reservation.resolvedBy})`, {
    reservationId: reservation.id,
  });
}

/** Whether a post or void at `at` is too late; the caller then expires the hold. */
export function assertNotExpired(reservation: Reservation, at: Date): void {
  if (reservation.status === 'pending' && isDue(reservation, at)) {
    throw new LedgerError('RESERVATION_EXPIRED', `reservation ${reservation.id} expired at ${reservation.expiresAt.toISOString()}`, {
      reservationId: reservation.id,
    });
  }
}

/**
 * Posts a hold in full or in part: releases the whole hold and posts `amount` (at most the
 * reserved amount). Any rest simply stops being held, as with TigerBeetle's partial post.
 */
export function planPost(reservation: Reservation, amount: bigint | undefined, at: Date): Posting[] {
  assertStillPending(reservation);
  assertNotExpired(reservation, at);
  const posted = amount ?? reservation.amount;
  if (posted > reservation.amount) {
    throw new LedgerError(
      'AMOUNT_EXCEEDS_RESERVATION',
      `reservation ${reservation.id} holds ${reservation.amount} ${reservation.currency}; cannot post ${posted}`,
      { reservationId: reservation.id },
    );
  }
  const { debitAccountId, creditAccountId, currency } = reservation;
  return [
    ...releasePostings(reservation),
    { accountId: debitAccountId, direction: 'debit', amount: posted, currency, layer: 'posted' },
    { accountId: creditAccountId, direction: 'credit', amount: posted, currency, layer: 'posted' },
  ];
}

export function planVoid(reservation: Reservation, at: Date): Posting[] {
  assertStillPending(reservation);
  assertNotExpired(reservation, at);
  return releasePostings(reservation);
}

export function planExpire(reservation: Reservation, at: Date): Posting[] {
  assertStillPending(reservation);
  if (!isDue(reservation, at)) {
    throw new LedgerError('RESERVATION_NOT_DUE', `reservation ${reservation.id} expires at ${reservation.expiresAt.toISOString()}, not yet`, {
      reservationId: reservation.id,
    });
  }
  return releasePostings(reservation);
}
