// Test tiers by file suffix (see docs/testing.md):
//   *.spec.ts       unit tests, beside the code, no I/O
//   *.repo-spec.ts  checks of the repository's own files, with the tools they need (kubectl, tsc, eslint)
//   *.int-spec.ts   integration tests against real PostgreSQL and Kafka
//   *.e2e-spec.ts   end-to-end tests in tools/e2e: the services running as processes
//   *.browser-spec.ts  the Pay Hub in headless Chromium (tools/e2e/browser), against the real services
// The integration and end-to-end tiers get their own PostgreSQL database and Kafka broker from
// their global set-up (libs/testing/src/global-setup.ts), never the ones `npm start` uses.
// TypeScript is compiled by SWC with decorator metadata, the way tsc emits it.
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]));

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

// The tiers with a broker get one per Jest worker (libs/testing/src/worker-kafka.ts): this
// environment points each worker at its own before any test code or process it starts reads it.
const WORKER_KAFKA_ENVIRONMENT = '<rootDir>/libs/testing/src/worker-kafka-environment.ts';

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  // `jose` ships ES modules only; Jest's CommonJS loader needs it compiled like our own code.
  transform: { '^.+\\.ts$': swc, '/node_modules/jose/.+\\.js$': swc },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  moduleNameMapper,
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.cache/'],
};

module.exports = {
  // Integration tests wait for real brokers and databases; unit tests finish far sooner.
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,simulators,tools}/**/*.spec.ts'] },
    { ...common, displayName: 'repo', testMatch: ['<rootDir>/{apps,libs,simulators,tools}/**/*.repo-spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,simulators,tools}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
      testEnvironment: WORKER_KAFKA_ENVIRONMENT,
      setupFiles: ['<rootDir>/libs/messaging/src/kafka/kafkajs-request-queue.setup.ts'],
      globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts',
      slowTestThreshold: 30,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/tools/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
      testEnvironment: WORKER_KAFKA_ENVIRONMENT,
      setupFiles: ['<rootDir>/libs/messaging/src/kafka/kafkajs-request-queue.setup.ts'],
      globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts',
      slowTestThreshold: 30,
    },
    {
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/tools/e2e/**/*.browser-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
      testEnvironment: WORKER_KAFKA_ENVIRONMENT,
      setupFiles: ['<rootDir>/libs/messaging/src/kafka/kafkajs-request-queue.setup.ts'],
      globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts',
      slowTestThreshold: 60,
    },
  ],
};
