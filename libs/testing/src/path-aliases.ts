/**
 * Jest loads its global set-up and teardown with Node's own module resolution, outside its module
 * mapper, where the `@pay/*` aliases of tsconfig.base.json do not resolve. Imported first by the
 * global set-up, this teaches Node those aliases for that process, so the set-up reaches the local
 * infrastructure through its public entries as any other code does. Elsewhere (Jest's sandbox, tsx,
 * the build's tsc-alias) they resolve already, and an alias resolves to the same file here.
 */
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const INSTALLED = Symbol.for('pay.testing.pathAliases');

type ResolveFilename = (this: unknown, request: string, ...rest: unknown[]) => string;

/** Each alias of tsconfig.base.json and the absolute path of its file. */
export function pathAliases(): Map<string, string> {
  const { compilerOptions } = JSON.parse(readFileSync(resolve(ROOT, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
  return new Map(Object.entries(compilerOptions.paths).map(([alias, [target]]) => [alias, resolve(ROOT, target)]));
}

function installPathAliases(): void {
  const loader = Module as unknown as { _resolveFilename: ResolveFilename } & Record<symbol, boolean>;
  if (loader[INSTALLED]) return;
  const aliases = pathAliases();
  const original = loader._resolveFilename;
  loader._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    return original.call(this, aliases.get(request) ?? request, ...rest);
  };
  loader[INSTALLED] = true;
}

installPathAliases();
