/**
 * The lint boundary rules see only files inside an Nx project, and only imports they can
 * resolve. This reads the sources themselves: every TypeScript file belongs to a project, no
 * relative import leaves its project (another project is reached by its alias), and an app is
 * reached only through its public entries (`src/tools.ts`, `test/testing.ts`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { filesUnder, ROOT, TOP_LEVEL } from './repo-files';

const files = TOP_LEVEL.flatMap(filesUnder);
const projectRoots = files
  .filter((file) => file.endsWith('/project.json'))
  .map((file) => dirname(file))
  .sort((a, b) => b.length - a.length);
const projectOf = (file: string): string | undefined => projectRoots.find((root) => file.startsWith(`${root}/`));
const sources = files.filter((file) => /\.(ts|mts|mjs)$/.test(file));

function relativeImports(file: string): string[] {
  const text = readFileSync(resolve(ROOT, file), 'utf8');
  // Statements (a line starting with import or export, up to its from) and dynamic imports; not code quoted in a string.
  const statements = /^(?:import|export)\b[^;'`]*?\bfrom\s+'(\.{1,2}\/[^']*)'|^import\s+'(\.{1,2}\/[^']*)'|\b(?:import|require)\(\s*'(\.{1,2}\/[^']*)'/gm;
  const found = [...text.matchAll(statements)].map((match) => match[1] ?? match[2] ?? match[3]);
  return found.map((specifier) =>
    relative(ROOT, join(ROOT, dirname(file), specifier))
      .split('\\')
      .join('/'),
  );
}

describe('imports between projects', () => {
  it('finds the projects and the sources (a test of the reading)', () => {
    expect(projectRoots).toEqual(expect.arrayContaining(['apps/wallet', 'libs/ledger/domain', 'simulators/psp', 'tools', 'tools/infra', 'bench', 'deploy']));
    expect(sources.length).toBeGreaterThan(300);
  });

  it('puts every source file in an Nx project, so the boundary rules see it', () => {
    expect(sources.filter((file) => projectOf(file) === undefined)).toEqual([]);
  });

  it('keeps relative imports inside their project', () => {
    const crossing = sources.flatMap((file) =>
      relativeImports(file)
        .filter((target) => projectOf(`${target}.ts`) !== projectOf(file))
        .map((target) => `${file} -> ${target}`),
    );
    expect(crossing).toEqual([]);
  });

  it('maps aliases into an app only onto its public entries', () => {
    const { paths } = (JSON.parse(readFileSync(resolve(ROOT, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } })
      .compilerOptions;
    const intoApps = Object.entries(paths).filter(([, [target]]) => target.startsWith('apps/'));
    expect(intoApps.length).toBeGreaterThan(0);
    expect(intoApps.filter(([, [target]]) => !/^apps\/[^/]+\/(src\/tools|test\/testing)\.ts$/.test(target))).toEqual([]);
  });
});
