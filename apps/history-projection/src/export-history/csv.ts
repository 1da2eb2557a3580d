/**
 * CSV (RFC 4180) lines. Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR at
 * the start) is prefixed with an apostrophe; numbers are written as they are, so negative
 * amounts stay numbers.
 */
export type CsvValue = string | number | bigint | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: CsvValue, numeric = false): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (!numeric && typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface CsvColumn<T> {
  header: string;
  value(row: T): CsvValue;
  numeric?: boolean;
}

export function csvHeader<T>(columns: readonly CsvColumn<T>[]): string {
  return `${columns.map((c) => csvField(c.header)).join(',')}\r\n`;
}

export function csvLines<T>(columns: readonly CsvColumn<T>[], rows: readonly T[]): string {
  let out = '';
  for (const row of rows) out += `${columns.map((c) => csvField(c.value(row), c.numeric)).join(',')}\r\n`;
  return out;
}
