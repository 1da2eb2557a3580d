import type { Posting } from './posting';
import type { Metadata } from './values';

/**
 * What a journal entry records:
 * - `transfer`: posted money movement;
 * - `reversal`: a posted correction that mirrors (part of) an earlier transfer or post;
 * - `reserve`: a hold (pending postings) with an expiry;
 * - `post_pending` / `void_pending` / `expire_pending`: the one resolution of a hold.
 */
export const ENTRY_KINDS = ['transfer', 'reversal', 'reserve', 'post_pending', 'void_pending', 'expire_pending'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

export const RESOLUTION_KINDS: readonly EntryKind[] = ['post_pending', 'void_pending', 'expire_pending'];

/** Entries whose posted amounts can be reversed. */
export const REVERSIBLE_KINDS: readonly EntryKind[] = ['transfer', 'post_pending'];

/** An entry of the append-only journal, as stored and as hashed. */
export interface JournalEntry {
  /** 1, 2, 3, ... with no gaps: the order of the hash chain and of the outbox. */
  readonly position: bigint;
  /** The client's idempotency key (derived for reservation resolutions). */
  readonly transactionId: string;
  readonly kind: EntryKind;
  readonly postings: readonly Posting[];
  readonly reservationId: string | null;
  readonly expiresAt: Date | null;
  readonly reverses: string | null;
  readonly metadata: Metadata;
  /** SHA-256 of the request's content: a retry with the same id must carry the same content. */
  readonly contentHash: string;
  readonly recordedAt: Date;
  readonly prevHash: string;
  readonly hash: string;
}

export type UnhashedEntry = Omit<JournalEntry, 'hash'>;
