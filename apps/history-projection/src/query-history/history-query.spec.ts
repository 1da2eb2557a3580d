import { aggregateBasis, aggregateQuery } from '../aggregate-history/aggregate-query';
import { csvField, csvLines } from '../export-history/csv';
import { ledgerAccountOwner } from '../project-events/ledger-postings';
import { readModelTables } from '../read-model/read-model-tables';
import { decodeCursor, encodeCursor, InvalidCursorError } from './cursor';
import { historyQuery, summaryQuery } from './history-query';

const t = readModelTables(3);

describe('history queries', () => {
  it("read a person's history as two index-ordered branches, each limited, merged newest first", () => {
    const { text, values } = historyQuery(t, { kind: 'person', personId: 'p-1' }, { apps: ['instagram'], counterpartyId: 'm-1', minAmount: 100n }, 'desc', {
      limit: 20,
      after: { occurredAt: '2026-01-01T00:00:00.000000Z', entryId: 'payment:x' },
    });
    expect(text).toMatch(/FROM history_entries_v3 WHERE payer_id = \$1 AND app = ANY\(\$2::text\[\]\) AND counterparty_id = \$3/);
    expect(text).toMatch(/counterparty_id = \$1 AND counterparty_type = 'person' AND app = ANY\(\$\d+::text\[\]\) AND payer_id = \$\d+/);
    expect(text.match(/ORDER BY sort_at DESC, entry_id DESC/g)).toHaveLength(3);
    expect(text).toMatch(/\(occurred_at, entry_id\) < \(\$\d+::timestamptz, \$\d+\)/);
    expect(values).toContain(21);
  });

  it("read one payment's entries (its detail: the payment, refunds, chargebacks) by paymentId, in both branches", () => {
    const { text, values } = historyQuery(t, { kind: 'person', personId: 'p-1' }, { paymentId: 'pay-1' }, 'desc', { limit: 50 });
    expect(text.match(/payment_id = \$\d+/g)).toHaveLength(2);
    expect(values).toContain('pay-1');
    expect(aggregateBasis({ paymentId: 'pay-1' })).toBe('entries');
  });

  it('never put a value into the SQL text', () => {
    const evil = "x'; DROP TABLE raw_events; --";
    const { text, values } = historyQuery(t, { kind: 'counterparty', counterpartyType: 'merchant', counterpartyId: evil }, { counterpartyId: evil }, 'asc');
    expect(text).not.toContain('DROP');
    expect(values.filter((v) => v === evil)).toHaveLength(2);
    expect(summaryQuery(t, { kind: 'person', personId: evil }, {}).text).not.toContain('DROP');
  });

  it('answer aggregates from the daily totals unless a filter needs the entries', () => {
    expect(aggregateBasis({ apps: ['facebook'], from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-02-01T00:00:00Z') })).toBe('daily_totals');
    expect(aggregateBasis({ minAmount: 1n })).toBe('entries');
    expect(aggregateBasis({ counterpartyId: 'm-1' })).toBe('entries');
    expect(aggregateBasis({ from: new Date('2026-01-01T12:00:00Z') })).toBe('entries');
    expect(aggregateQuery(t, { interval: 'week', groupBy: ['app'], filters: {} }).text).toMatch(/GROUP BY 1, 2, 3/);
  });
});

describe('cursors', () => {
  it('round-trip, and are refused when forged or used with the other order', () => {
    const cursor = encodeCursor({ occurredAt: '2026-01-01T10:00:00.123000Z', entryId: 'refund:p:r' }, 'desc');
    expect(decodeCursor(cursor, 'desc')).toEqual({ occurredAt: '2026-01-01T10:00:00.123000Z', entryId: 'refund:p:r' });
    expect(() => decodeCursor(cursor, 'asc')).toThrow(/issued for order=desc/);
    expect(() => decodeCursor('not-a-cursor', 'desc')).toThrow(InvalidCursorError);
    expect(() => decodeCursor(Buffer.from(JSON.stringify({ t: '2026-01-01', id: 'x', o: 'desc' })).toString('base64url'), 'desc')).toThrow(InvalidCursorError);
  });
});

describe('CSV', () => {
  it('quotes what needs quoting and defuses formulas, but keeps negative amounts numbers', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('-1+2')).toBe("'-1+2");
    expect(csvField('-1500', true)).toBe('-1500');
    expect(csvField(null)).toBe('');
    expect(csvLines([{ header: 'a', value: (r: { a: string }) => r.a }], [{ a: 'x' }, { a: 'y' }])).toBe('x\r\ny\r\n');
  });
});

describe('ledger accounts', () => {
  it("are attributed to their owner by the wallet's chart of accounts", () => {
    expect(ledgerAccountOwner('merchant.m-1.payable.EUR')).toEqual({ type: 'merchant', id: 'm-1', purpose: 'payable', currency: 'EUR' });
    expect(ledgerAccountOwner('nonprofit.np.1.payable.USD')).toEqual({ type: 'non-profit', id: 'np.1', purpose: 'payable', currency: 'USD' });
    expect(ledgerAccountOwner('person.p-000001.wallet.GBP')).toMatchObject({ type: 'person', id: 'p-000001' });
    expect(ledgerAccountOwner('system.psp-clearing.stripe.EUR')).toBeUndefined();
    expect(ledgerAccountOwner('merchant-h.0123abcd.payable.EUR')).toBeUndefined();
    expect(ledgerAccountOwner('alice')).toBeUndefined();
  });
});
