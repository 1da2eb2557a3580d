import { sqlLiteral } from './begin-with';

/** What node-postgres' escapeLiteral does for a text holding a quote or a backslash. */
const client = { escapeLiteral: (text: string): string => `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'` };

describe('sqlLiteral: a statement parameter as the literal EXECUTE is sent with', () => {
  it('writes scalars as PostgreSQL reads them back', () => {
    expect(sqlLiteral(client, null)).toBe('NULL');
    expect(sqlLiteral(client, 42)).toBe('42');
    expect(sqlLiteral(client, true)).toBe('true');
    expect(sqlLiteral(client, false)).toBe('false');
    expect(sqlLiteral(client, new Date('2026-12-08T01:02:03.004Z'))).toBe("'2026-12-08T01:02:03.004Z'");
    expect(sqlLiteral(client, 'plain')).toBe("'plain'");
    expect(sqlLiteral(client, "it's")).toBe("E'it''s'");
    expect(() => sqlLiteral(client, Number.NaN)).toThrow(/finite number/);
  });

  it('quotes array elements for the array parser, and dollar-quotes a long array as it does a long text', () => {
    expect(sqlLiteral(client, ['a', null, 'say "hi"', 3, false])).toBe(`E'{"a",NULL,"say \\\\"hi\\\\"","3","false"}'`);
    const document = JSON.stringify({ payload: 'x'.repeat(300), quoted: 'a "b" \\ c' });
    const element = document.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    expect(sqlLiteral(client, [document])).toBe('$pay_document$' + `{"${element}"}` + '$pay_document$');
    // Holding the tag: single-quoted and escaped instead.
    expect(sqlLiteral(client, [`${'y'.repeat(300)}$pay_document`])).toMatch(/^'\{"y+\$pay_document"\}'$/);
  });

  it('refuses what would not travel as itself: an object inside an array, a value of another type', () => {
    expect(() => sqlLiteral(client, [{ a: 1 } as unknown as string])).toThrow(/element must be a text/);
    expect(() => sqlLiteral(client, { a: 1 } as unknown as string)).toThrow(/must be a text, number, boolean/);
  });
});
