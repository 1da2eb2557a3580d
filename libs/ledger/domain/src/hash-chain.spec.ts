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

  // The stored chains were hashed over canonicalJson of this object: canonicalEntry writes the same text directly.
  const specifiedText = (e: JournalEntry): string =>
    canonicalJson({
      format: 'pay-ledger-entry/1',
      position: e.position,
      transactionId: e.transactionId,
      kind: e.kind,
      reservationId: e.reservationId,
      expiresAt: e.expiresAt,
      reverses: e.reverses,
      metadata: e.metadata,
      contentHash: e.contentHash,
      recordedAt: e.recordedAt,
      postings: e.postings.map((p) => [p.accountId, p.direction, p.layer, p.amount, p.currency]),
    });

  it('writes exactly the canonical JSON of the entry, for every kind of entry and any metadata', () => {
    const ledger = economy();
    const at = (ms: number): Date => new Date(Date.UTC(2026, 0, 1) + ms);
    ledger.execute({ type: 'transfer', transactionId: 'f1', postings: [eur('clearing-eur', 'debit', 9_000n), eur('alice', 'credit', 9_000n)] });
    ledger.execute({
      type: 'transfer',
      transactionId: 'p1',
      postings: [eur('alice', 'debit', 300n), eur('shop', 'credit', 300n)],
      metadata: { 'note.1': 'quote " backslash \\ é ✓ \u2028', a_b: '' },
    });
    ledger.execute({ type: 'reverse', transactionId: 'r1', reverses: 'p1', postings: [eur('alice', 'credit', 100n), eur('shop', 'debit', 100n)] });
    ledger.execute({
      type: 'reserve',
      transactionId: 'h1',
      debitAccountId: 'alice',
      creditAccountId: 'shop',
      amount: 50n,
      currency: 'EUR',
      expiresAt: at(8.64e10),
    });
    ledger.execute({ type: 'post_reservation', reservationId: 'h1', amount: 20n });
    const journal = ledger.journal();
    expect(journal).toHaveLength(5);
    expect(new Set(journal.map((e) => e.kind))).toEqual(new Set(['transfer', 'reversal', 'reserve', 'post_pending']));
    for (const entry of journal) expect(canonicalEntry(entry)).toBe(specifiedText(entry));
    const [first] = journal;
    expect(canonicalEntry({ ...first, position: 12_345_678_901_234_567_890n })).toBe(specifiedText({ ...first, position: 12_345_678_901_234_567_890n }));
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
