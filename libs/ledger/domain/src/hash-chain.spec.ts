import { economy, eur } from './__fixtures__/ledger-fixtures';
import { canonicalJson } from './canonical';
import type { JournalEntry } from './journal-entry';
import { canonicalEntry, GENESIS_HASH, hashEntry } from './hash-chain';
import { verifyEntries } from './in-memory-ledger';

function journalOfFive(): JournalEntry[] {
  const ledger = economy();
  for (let i = 0; i < 5; i++) {
    ledger.execute({
      type: 'transfer',
      transactionId: `t${i}`,
      postings: [eur('clearing-eur', 'debit', 100n), eur('alice', 'credit', 100n)],
      metadata: { n: String(i) },
    });
  }
  return [...ledger.journal()];
}

describe('canonicalJson', () => {
  it('sorts keys, writes bigints as strings and dates in UTC, and drops undefined members', () => {
    expect(canonicalJson({ b: 1n, a: [new Date('2026-01-01T00:00:00Z'), null], c: undefined })).toBe('{"a":["2026-01-01T00:00:00.000Z",null],"b":"1"}');
  });

  it('refuses floats, which have no place in ledger content', () => {
    expect(() => canonicalJson({ amount: 12.5 })).toThrow(/safe integers/);
  });
});

describe('the hash chain', () => {
  it('links each entry to the previous one, from the genesis hash', () => {
    const journal = journalOfFive();
    expect(journal[0]?.prevHash).toBe(GENESIS_HASH);
    journal.slice(1).forEach((entry, i) => expect(entry.prevHash).toBe(journal[i]?.hash));
    expect(verifyEntries(journal)).toEqual({ ok: true, entries: 5n });
  });

  it('covers every stored field: the canonical text names the format and the position', () => {
    const [first] = journalOfFive();
    expect(canonicalEntry(first)).toContain('"format":"pay-ledger-entry/1"');
    expect(canonicalEntry(first)).toContain('"position":"1"');
  });

  const tamperings: Array<[string, (e: JournalEntry) => JournalEntry]> = [
    ['an amount', (e) => ({ ...e, postings: e.postings.map((p, i) => (i === 1 ? { ...p, amount: p.amount + 1n } : p)) })],
    ['an account', (e) => ({ ...e, postings: e.postings.map((p, i) => (i === 1 ? { ...p, accountId: 'bob' } : p)) })],
    ['metadata', (e) => ({ ...e, metadata: { n: 'changed' } })],
    ['the time', (e) => ({ ...e, recordedAt: new Date(e.recordedAt.getTime() + 1) })],
  ];

  it.each(tamperings)('reports the position where %s was changed', (_what, tamper) => {
    const journal = journalOfFive();
    journal[2] = tamper(journal[2]);
    expect(verifyEntries(journal)).toMatchObject({ ok: false, position: 3n, entries: 2n });
  });

  it('reports a rehashed entry at the next position, whose link no longer matches', () => {
    const journal = journalOfFive();
    const changed = { ...journal[2], metadata: { n: 'changed' } };
    journal[2] = { ...changed, hash: hashEntry(changed) };
    expect(verifyEntries(journal)).toMatchObject({ ok: false, position: 4n, reason: expect.stringMatching(/prev_hash/) });
  });

  it('reports a missing entry', () => {
    const journal = journalOfFive();
    journal.splice(1, 1);
    expect(verifyEntries(journal)).toMatchObject({ ok: false, position: 2n, reason: expect.stringMatching(/missing/) });
  });
});
