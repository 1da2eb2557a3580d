/**
 * In PostgreSQL, a bare name in ORDER BY is an output column first: `SELECT tx_id::text AS tx_id …
 * ORDER BY tx_id` sorts the text ('10000' before '9999'), not the column. The outbox relay did so,
 * read later transactions first once the server's transaction ids gained a digit, and stood still
 * (it had passed such rows unpublished before it counted what it passed). This reads every SQL
 * text of the sources and refuses an ORDER BY on a name that the same statement gives to a
 * converted value: name the table's column (`o.tx_id`) or give the text another name.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { filesUnder, ROOT, TOP_LEVEL } from './repo-files';

/** `<expression>::<type> AS <name>`, `CAST(… AS <type>) AS <name>`, `to_char(…) AS <name>`: names whose order is not the column's. */
const CONVERTED = /(?:::\s*(?:text|varchar|character varying|json|jsonb)|\bto_char\s*\([^)]*\)|\bcast\s*\([^)]*\))\s+AS\s+"?(\w+)"?/gi;
/** The items of each ORDER BY, up to what ends it. */
const ORDER_BY = /\bORDER\s+BY\s+([\s\S]*?)(?=\bLIMIT\b|\bOFFSET\b|\bFOR\s+UPDATE\b|\bFOR\s+SHARE\b|\)|;|$)/gi;

/** Each ORDER BY item that is a bare name the statement gives to a converted value. */
export function orderedByConvertedAlias(sql: string): string[] {
  const converted = new Set([...sql.matchAll(CONVERTED)].map((m) => m[1].toLowerCase()));
  if (converted.size === 0) return [];
  return [...sql.matchAll(ORDER_BY)].flatMap((m) =>
    m[1]
      .split(',')
      .map((item) => item.trim().split(/\s+/)[0].replace(/"/g, '').toLowerCase())
      .filter((name) => converted.has(name)),
  );
}

/** Template literals and quoted strings that hold an ORDER BY. */
function sqlTexts(source: string): Array<{ line: number; text: string }> {
  return [...source.matchAll(/`[^`]*`|'[^'\n]*'|"[^"\n]*"/g)]
    .filter((m) => /\bORDER\s+BY\b/i.test(m[0]))
    .map((m) => ({ line: source.slice(0, m.index).split('\n').length, text: m[0] }));
}

describe('SQL texts', () => {
  it('recognise the mistake (the relay statement as it was)', () => {
    const relayRead = `SELECT position, tx_id::text AS tx_id, topic FROM outbox WHERE (tx_id, position) > ($1::xid8, $2::bigint) ORDER BY tx_id, position LIMIT $3`;
    expect(orderedByConvertedAlias(relayRead)).toEqual(['tx_id']);
    expect(
      orderedByConvertedAlias(relayRead.replace('FROM outbox', 'FROM outbox o').replace('ORDER BY tx_id, position', 'ORDER BY o.tx_id, o.position')),
    ).toEqual([]);
    expect(orderedByConvertedAlias(`SELECT to_char(day, 'YYYY-MM-DD') AS day, n FROM t ORDER BY day DESC`)).toEqual(['day']);
    expect(orderedByConvertedAlias(`SELECT tx_id::text AS tx_text FROM raw_events ORDER BY tx_id, position`)).toEqual([]);
  });

  it('never order by a name given to a converted value (it would sort the text, not the column)', () => {
    const found = TOP_LEVEL.flatMap(filesUnder)
      .filter((file) => /\.(ts|sql)$/.test(file) && !file.endsWith('sql-order-by-alias.repo-spec.ts'))
      .flatMap((file) =>
        sqlTexts(readFileSync(resolve(ROOT, file), 'utf8')).flatMap(({ line, text }) =>
          orderedByConvertedAlias(text).map((name) => `${file}:${line} ORDER BY ${name}`),
        ),
      );
    expect(found).toEqual([]);
  });
});
