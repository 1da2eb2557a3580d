import type { ChainVerification } from '@pay/ledger-domain';
import { ChainVerifier } from '@pay/ledger-domain';
import type { Sql } from './sql';
import { toBigInt } from './sql';
import { loadEntries } from './journal-rows';

export interface VerifyOptions {
  /** Entries read per query; the walk streams, so memory stays flat for any journal size. */
  readonly pageSize?: number;
  readonly onProgress?: (verified: bigint) => void;
}

/**
 * Walks the hash chain from entry 1 and reports the first position that does not match:
 * a changed entry or posting (its hash), a removed or inserted entry (the positions and the
 * links), or a cut tail (the chain head). Run it inside one REPEATABLE READ snapshot.
 */
export async function verifyJournal(sql: Sql, options: VerifyOptions = {}): Promise<ChainVerification> {
  const pageSize = BigInt(options.pageSize ?? 2000);
  const verifier = new ChainVerifier();
  const [bounds] = await sql.query<{ last: string | null }>('SELECT max(position) AS last FROM journal_entries');
  const last = bounds?.last ? toBigInt(bounds.last) : 0n;
  for (let from = 0n; from < last; from += pageSize) {
    const entries = await loadEntries(sql, 'e.position > $1 AND e.position <= $2', [from.toString(), (from + pageSize).toString()]);
    for (const entry of entries) {
      const broken = verifier.check(entry);
      if (broken) return { ok: false, entries: verifier.verified, ...broken };
    }
    options.onProgress?.(verifier.verified);
  }
  const [head] = await sql.query<{ position: string; hash: string }>('SELECT position, hash FROM chain_head');
  const headPosition = toBigInt(head?.position ?? '0');
  if (headPosition !== verifier.verified || (head?.hash ?? '') !== verifier.lastHash) {
    return {
      ok: false,
      entries: verifier.verified,
      position: verifier.verified + 1n,
      reason: `the chain head records ${headPosition} entries ending in ${head?.hash.slice(0, 12) ?? '?'}…, the journal has ${verifier.verified} (entries were removed, or the head was changed)`,
    };
  }
  return { ok: true, entries: verifier.verified };
}
