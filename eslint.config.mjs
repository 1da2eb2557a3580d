// Lint that catches the bugs that hurt services (floating promises, misused promises,
// type-only imports) and the module boundaries that keep the architecture honest.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Framework and infrastructure packages that the pure domain must never import. */
const FRAMEWORK_PACKAGES = [
  '@nestjs/*',
  'typeorm',
  'pg',
  'kafkajs',
  'stripe',
  'express',
  'class-validator',
  'class-transformer',
  '@opentelemetry/*',
  'pino',
];

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
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries({ tests: true })] },
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

function moduleBoundaries({ tests }) {
  const testing = tests ? ['type:testing'] : [];
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      // Apps never import each other; they share only libraries.
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:infra', 'type:domain', 'type:contracts', ...testing] },
      { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:infra', 'type:domain', 'type:contracts', ...testing] },
      { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts', ...testing] },
      // The domain is plain TypeScript: no framework, no database, no broker.
      { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', ...testing], bannedExternalImports: FRAMEWORK_PACKAGES },
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:infra', 'type:domain', 'type:contracts', 'type:testing'] },
      // A service's code stays in its scope; shared libraries serve everyone.
      { sourceTag: 'scope:wallet', onlyDependOnLibsWithTags: ['scope:wallet', 'scope:shared'] },
      { sourceTag: 'scope:payment-orchestration', onlyDependOnLibsWithTags: ['scope:payment-orchestration', 'scope:shared'] },
      { sourceTag: 'scope:history-projection', onlyDependOnLibsWithTags: ['scope:history-projection', 'scope:shared'] },
      { sourceTag: 'scope:ad-signal-aggregation', onlyDependOnLibsWithTags: ['scope:ad-signal-aggregation', 'scope:shared'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
    ],
  };
}
