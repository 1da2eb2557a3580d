/**
 * The image's build stage compiles `tsconfig.build.json` from the Docker build context, which
 * `.dockerignore` narrows to what the Dockerfile copies minus tests. A build file that imports
 * something left out of the context (a test helper, libs/testing) compiles here, where the whole
 * repository is present, and fails only in `docker build`. This finds it without Docker: the
 * build's program started from the files of the context (what the image compiles; simulators/
 * and tests stay out), imports resolved, must stay inside the context.
 */
import { readFileSync } from 'node:fs';
import { matchesGlob, relative, resolve } from 'node:path';
import ts from 'typescript';

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
    const config = ts.getParsedCommandLineOfConfigFile(
      resolve(ROOT, 'tsconfig.build.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
        },
      },
    )!;
    const toRepo = (file: string): string => relative(ROOT, file).split('\\').join('/');
    const roots = config.fileNames.filter((file) => inContext(rules, toRepo(file)));
    expect(roots.length).toBeLessThan(config.fileNames.length); // simulators/ is built for npm start, not for images
    const program = ts.createProgram({ rootNames: roots, options: config.options });
    const ours = program
      .getSourceFiles()
      .map((source) => toRepo(source.fileName))
      .filter((file) => !file.startsWith('node_modules/') && !file.startsWith('..'));
    expect(ours.length).toBeGreaterThan(100);
    expect(ours.filter((file) => !inContext(rules, file))).toEqual([]);
  });
});
