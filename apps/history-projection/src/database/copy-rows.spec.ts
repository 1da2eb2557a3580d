import { copyText } from './copy-rows';

const columns = [
  { name: 'id', type: 'text' },
  { name: 'n', type: 'bigint' },
  { name: 'ok', type: 'boolean' },
  { name: 'doc', type: 'jsonb' },
];

describe('copyText (COPY text format)', () => {
  it('writes a tab-separated line per row, null and missing values as \\N', () => {
    expect(
      copyText(columns, [
        { id: 'a', n: 12, ok: true, doc: { k: [1] } },
        { id: 'b', n: null, ok: false },
      ]),
    ).toBe('a\t12\tt\t{"k":[1]}\nb\t\\N\tf\t\\N\n');
  });

  it('escapes backslash, tab, newline and carriage return, in text and in JSON text', () => {
    expect(copyText(columns, [{ id: 'x\\y\tz\nw\rv', n: '5', ok: true, doc: { s: 'q"\\' } }])).toBe('x\\\\y\\tz\\nw\\rv\t5\tt\t{"s":"q\\\\"\\\\\\\\"}\n');
  });

  it('refuses array columns and values that are not scalars', () => {
    expect(() => copyText([{ name: 'apps', type: 'text[]' }], [{ apps: ['a'] }])).toThrow(/array column apps/);
    expect(() => copyText([{ name: 'id', type: 'text' }], [{ id: { nested: true } }])).toThrow(/column id holds a object/);
  });
});
