import { canonicalJson, sha256Hex } from './canonical';
import type { JournalEntry, UnhashedEntry } from './journal-entry';
import { imbalances } from './posting';

/** The `prevHash` of entry 1. */
export const GENESIS_HASH = '0'.repeat(64);

/** Names the serialisation below; a future change of format must change it. */
export const CHAIN_FORMAT = 'pay-ledger-entry/1';

/**
 * The exact text an entry's hash covers: every stored column of the entry and of its postings
 * (in posting order). The position is included so that entries cannot be swapped.
 *
 * It is canonicalJson of { format, position, transactionId, kind, reservationId, expiresAt,
 * reverses, metadata, contentHash, recordedAt, postings: [[account, direction, layer, amount,
 * currency], ...] }, written out directly in canonicalJson's key order: it runs for every entry
 * appended and every entry verified, and the generic walk (key sorting, one string per value)
 * cost more than the hash itself. hash-chain.spec.ts holds the two texts equal.
 */
export function canonicalEntry(entry: UnhashedEntry): string {
  let postings = '';
  for (const p of entry.postings) {
    if (postings !== '') postings += ',';
    postings += `[${JSON.stringify(p.accountId)},${JSON.stringify(p.direction)},${JSON.stringify(p.layer)},"${p.amount.toString()}",${JSON.stringify(p.currency)}]`;
  }
  return (
    `{"contentHash":${JSON.stringify(entry.contentHash)}` +
    optionalMember('expiresAt', entry.expiresAt) +
    `,"format":"${CHAIN_FORMAT}","kind":${JSON.stringify(entry.kind)},"metadata":${canonicalJson(entry.metadata)}` +
    `,"position":"${entry.position.toString()}","postings":[${postings}],"recordedAt":${canonicalJson(entry.recordedAt)}` +
    optionalMember('reservationId', entry.reservationId) +
    optionalMember('reverses', entry.reverses) +
    `,"transactionId":${JSON.stringify(entry.transactionId)}}`
  );
}

/** A member as canonicalJson writes it: left out when undefined. */
function optionalMember(key: string, value: string | Date | null | undefined): string {
  return value === undefined ? '' : `,"${key}":${canonicalJson(value)}`;
}

/** SHA-256 over the previous entry's hash and this entry's canonical content. */
export function hashEntry(entry: UnhashedEntry): string {
  return sha256Hex(`${entry.prevHash}\n${canonicalEntry(entry)}`);
}

export interface ChainBreak {
  readonly position: bigint;
  readonly reason: string;
}

/**
 * Walks the chain one entry at a time (so a verifier can stream millions of rows) and reports
 * the first entry that does not match.
 */
export class ChainVerifier {
  private nextPosition = 1n;
  private previousHash = GENESIS_HASH;

  get verified(): bigint {
    return this.nextPosition - 1n;
  }

  get lastHash(): string {
    return this.previousHash;
  }

  check(entry: JournalEntry): ChainBreak | undefined {
    const position = this.nextPosition;
    if (entry.position !== position) {
      return { position, reason: `expected entry ${position}, found ${entry.position} (an entry is missing or out of order)` };
    }
    if (entry.prevHash !== this.previousHash) {
      return { position, reason: 'prev_hash does not equal the hash of the previous entry' };
    }
    if (hashEntry(entry) !== entry.hash) {
      return { position, reason: 'the stored hash does not match the entry content (entry or postings changed)' };
    }
    if (entry.postings.length === 0 || [...imbalances(entry.postings).values()].some((sum) => sum !== 0n)) {
      return { position, reason: 'the postings are not balanced' };
    }
    this.nextPosition = position + 1n;
    this.previousHash = entry.hash;
    return undefined;
  }
}
