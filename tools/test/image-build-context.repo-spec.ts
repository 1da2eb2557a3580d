/**
 * The image's build stage compiles `tsconfig.build.json` from the Docker build context, which
 * `.dockerignore` narrows to what the Dockerfile copies minus tests. A build file that imports
 * something left out of the context (a test helper, libs/testing) compiles here, where the whole
 * repository is present, and fails only in `docker build`. This finds it without Docker: every
 * file of the build's program, imports resolved, must be inside the context.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { matchesGlob, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

interface Rule {
  pattern: string;
  include: boolean;
}

/** `.dockerignore` rules in order (the last one that matches a path, or a folder above it, decides). */
export function dockerignoreRules(text: string): Rule[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => (line.startsWith('!') ? { pattern: line.slice(1), include: true } : { pattern: line, include: false }))
    .map(({ pattern, include }) => ({ pattern: pattern.replace(/^\//, '').replace(/\/$/, ''), include }));
}

export function inContext(rules: Rule[], path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let included = true;
  for (const rule of rules) {
    if (candidates.some((candidate) => matchesGlob(candidate, rule.pattern))) included = rule.include;
  }
  return included;
}

describe('the image build context', () => {
  const rules = dockerignoreRules(readFileSync(resolve(ROOT, '.dockerignore'), 'utf8'));

  it('reads .dockerignore the way Docker does (a test of the reading)', () => {
    expect(inContext(rules, 'apps/wallet/src/main.ts')).toBe(true);
    expect(inContext(rules, 'libs/testing/src/index.ts')).toBe(false);
    expect(inContext(rules, 'apps/wallet/test/wallet-test-kit.ts')).toBe(false);
    expect(inContext(rules, 'libs/ledger/store/src/postgres-ledger.int-spec.ts')).toBe(false);
    expect(inContext(rules, 'docs/deploy.md')).toBe(false);
    expect(inContext(rules, 'config/rollout.json')).toBe(true);
  });

  it('holds every file the build compiles, imports included', () => {
    const tsc = resolve(ROOT, 'node_modules/typescript/bin/tsc');
    const listed = execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--listFilesOnly'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const ours = listed
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .map((file) => relative(ROOT, file).split('\\').join('/'))
      .filter((file) => !file.startsWith('node_modules/') && !file.startsWith('..'));
    expect(ours.length).toBeGreaterThan(100);
    expect(ours.filter((file) => !inContext(rules, file))).toEqual([]);
  });
});
