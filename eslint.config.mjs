// Lint that catches the bugs that hurt services (floating promises, misused promises,
// type-only imports) and the module boundaries that keep the architecture honest.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import { readFileSync } from 'node:fs';

/** Framework and infrastructure packages that the pure domain must never import. */
const FRAMEWORK_PACKAGES = ['@nestjs/*', 'typeorm', 'pg', 'kafkajs', 'stripe', 'express', 'class-validator', 'class-transformer', '@opentelemetry/*', 'pino'];

/**
 * An app's public entries (`@pay/<app>/tools`, and `@pay/<app>/testing` for tests): the only way
 * into an app, for tools, benches, deploy checks and end-to-end tests. Nx refuses any import of an
 * app project, so these are allowed by name, and only in those files.
 */
const APP_ENTRIES = Object.entries(JSON.parse(readFileSync(new URL('./tsconfig.base.json', import.meta.url), 'utf8')).compilerOptions.paths)
  .filter(([, [target]]) => target.startsWith('apps/'))
  .map(([alias]) => alias);

const TEST_FILES = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/*.repo-spec.ts'];
/** An app's test kits (its `test/` folders): helpers of its tests, like them allowed the testing library. */
const APP_TEST_KITS = ['apps/*/test/**/*.ts', 'apps/*/src/**/test/**/*.ts'];
/** Outside the services: operational tools, benches, deploy checks (each an Nx project with its tag). */
const SIDE_FILES = ['tools/**/*.ts', 'bench/**/*.ts', 'deploy/**/*.ts'];
/** Test support that is not a spec file: the end-to-end kit and the benches start simulators and use the test kits. */
const SIDE_TEST_FILES = [...TEST_FILES.map((glob) => `{tools,bench,deploy}/${glob}`), 'tools/payments/e2e/**/*.ts', 'tools/e2e/**/*.ts', 'bench/**/*.ts'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cache/', '.nx/', 'reports/', 'coverage/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries({ tests: false })],
    },
  },
  {
    // Tests may also use the testing library (real PostgreSQL and Kafka helpers).
    files: [...TEST_FILES, ...APP_TEST_KITS],
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries({ tests: true })] },
  },
  {
    files: SIDE_FILES,
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries({ tests: false, appEntries: true })] },
  },
  {
    files: SIDE_TEST_FILES,
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries({ tests: true, appEntries: true })] },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'libs/testing/**/*.ts', 'tools/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);

function moduleBoundaries({ tests, appEntries = false }) {
  // Tests may also use the test kits and the simulators (stand-ins for PSPs); production code never.
  const testing = tests ? ['type:testing', 'type:simulator'] : [];
  const libraries = ['type:infra', 'type:domain', 'type:contracts'];
  return {
    enforceBuildableLibDependency: false,
    allow: appEntries ? APP_ENTRIES.filter((entry) => tests || entry.endsWith('/tools')) : [],
    depConstraints: [
      // Apps never import each other; they share only libraries.
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:infra', 'type:domain', 'type:contracts', ...testing] },
      { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:infra', 'type:domain', 'type:contracts', ...testing] },
      { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts', ...testing] },
      // The domain is plain TypeScript: no framework, no database, no broker.
      { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', ...testing], bannedExternalImports: FRAMEWORK_PACKAGES },
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: [...libraries, 'type:testing', 'type:local-infra'] },
      // Stand-ins for outside systems (simulators/): test support, never imported by production code.
      { sourceTag: 'type:simulator', onlyDependOnLibsWithTags: [...libraries, 'type:simulator'] },
      // Kafka and PostgreSQL for npm start, tests and benches (tools/infra). What the tiers' global set-up loads takes only library entries that load no framework (`@pay/contracts/topics`, `@pay/messaging/kafkajs-request-queue`).
      { sourceTag: 'type:local-infra', onlyDependOnLibsWithTags: ['type:contracts', 'type:infra', 'type:local-infra'] },
      // Tools, benches, deploy checks and repository tests: libraries, apps through APP_ENTRIES only.
      { sourceTag: 'type:tool', onlyDependOnLibsWithTags: [...libraries, 'type:tool', 'type:local-infra', ...testing] },
      { sourceTag: 'type:bench', onlyDependOnLibsWithTags: [...libraries, 'type:tool', 'type:local-infra', ...testing] },
      { sourceTag: 'type:deploy', onlyDependOnLibsWithTags: [...libraries, 'type:tool'] },
      { sourceTag: 'type:repo-tests', onlyDependOnLibsWithTags: [...libraries, 'type:tool', 'type:local-infra', 'type:deploy', ...testing] },
      // A service's code stays in its scope; shared libraries serve everyone.
      { sourceTag: 'scope:wallet', onlyDependOnLibsWithTags: ['scope:wallet', 'scope:shared'] },
      { sourceTag: 'scope:payment-orchestration', onlyDependOnLibsWithTags: ['scope:payment-orchestration', 'scope:shared'] },
      { sourceTag: 'scope:history-projection', onlyDependOnLibsWithTags: ['scope:history-projection', 'scope:shared'] },
      { sourceTag: 'scope:ad-signal-aggregation', onlyDependOnLibsWithTags: ['scope:ad-signal-aggregation', 'scope:shared'] },
      { sourceTag: 'scope:pay-hub', onlyDependOnLibsWithTags: ['scope:pay-hub', 'scope:shared'] },
      { sourceTag: 'scope:support', onlyDependOnLibsWithTags: ['scope:support', 'scope:shared'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
    ],
  };
}
