/**
 * The unit tier (`*.spec.ts`) needs nothing: no files, processes or network (docs/testing.md). A
 * spec that imports Node's file, process or network modules for their values (type imports are
 * fine) belongs to the integration tier (`*.int-spec.ts`) or the repo tier (`*.repo-spec.ts`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { filesUnder, ROOT, TOP_LEVEL } from './repo-files';

const IO_MODULES = ['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'http2', 'tls', 'dgram', 'worker_threads', 'cluster'];

/** The I/O modules a source imports for their values: `import { x } from 'node:http'`, `import 'fs'`, `require('node:net')`. */
export function ioModulesImported(text: string): string[] {
  const names = IO_MODULES.map((name) => name.replace('/', '\\/')).join('|');
  const valueImport = new RegExp(
    `^import\\s+(?!type\\b)[^;]*?from\\s+'(?:node:)?(${names})'|^import\\s+'(?:node:)?(${names})'|\\brequire\\(\\s*'(?:node:)?(${names})'\\s*\\)`,
    'gm',
  );
  return [...text.matchAll(valueImport)].map((match) => match[1] ?? match[2] ?? match[3]);
}

describe('the unit tier', () => {
  it('tells a value import of an I/O module from a type import (a test of the reading)', () => {
    expect(ioModulesImported("import { createServer } from 'node:http';\nimport type { Server } from 'node:http';")).toEqual(['http']);
    expect(ioModulesImported("import { readFile } from 'fs/promises';\nconst cp = require('node:child_process');")).toEqual(['fs/promises', 'child_process']);
    expect(ioModulesImported("import type { AddressInfo } from 'node:net';\nimport { setTimeout } from 'node:timers/promises';")).toEqual([]);
  });

  it('imports no file, process or network module in a *.spec.ts', () => {
    const specs = TOP_LEVEL.flatMap(filesUnder).filter((file) => file.endsWith('.spec.ts'));
    expect(specs.length).toBeGreaterThan(100);
    const offenders = specs.flatMap((file) => ioModulesImported(readFileSync(resolve(ROOT, file), 'utf8')).map((name) => `${file} imports ${name}`));
    expect(offenders).toEqual([]);
  });
});
