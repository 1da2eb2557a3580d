/**
 * Applies pending migrations of one service (`SERVICE=wallet` or `--service wallet`) or of all
 * five and the Pay Hub (its sessions). Kubernetes runs it as a Job before a rollout (services there start with
 * DB_MIGRATE_ON_START=false). Run from the build: `npm run db:migrate` or
 * `node dist/tools/migrate.js --service wallet`.
 *
 * Env: DATABASE_URL, DB_SCHEMA (default: each service's own schema), SERVICE. Nothing else: it
 * validates the database settings only (DatabaseConfig), not the service's whole configuration,
 * so it runs without the service's keys.
 */
import 'reflect-metadata';
import { ConfigError, DatabaseConfig, loadConfig } from '@pay/config';
import type { ServiceDefinition } from '@pay/platform';
import { openServiceDataSource } from '@pay/platform';
import { payHubSchema } from '@pay/pay-hub/tools';
import { adSignalAggregationService } from '@pay/ad-signal-aggregation/tools';
import { historyProjectionService } from '@pay/history-projection/tools';
import { supportService } from '@pay/support/tools';
import { paymentOrchestrationService } from '@pay/payment-orchestration/tools';
import { walletService } from '@pay/wallet/tools';
import { parseCommandLine } from './command-line';

/** What a run migrates of an app: its name, its schema and the schema's migrations. */
export type MigratedSchema = Pick<ServiceDefinition, 'name' | 'schema' | 'migrations'>;

const SERVICES: MigratedSchema[] = [
  ...([walletService, paymentOrchestrationService, historyProjectionService, adSignalAggregationService, supportService] as ServiceDefinition[]),
  payHubSchema,
];

/** What a run migrates, from the arguments and the environment, validated before anything is opened. */
export interface MigrationPlan {
  services: MigratedSchema[];
  /** The only settings read: where the database is, and DB_SCHEMA. */
  config: DatabaseConfig;
}

const USAGE = 'usage: npm run db:migrate -- [--service <wallet|payment-orchestration|history-projection|ad-signal-aggregation|support|pay-hub|all>]';

/** Throws ConfigError (one line: what is wrong, never a value) for a bad SERVICE, DATABASE_URL or DB_SCHEMA; UsageError for a bad flag. */
export function migrationPlan(argv: readonly string[], env: NodeJS.ProcessEnv): MigrationPlan {
  const name = parseCommandLine(argv, { service: { type: 'string' } }, USAGE).service ?? env.SERVICE;
  const services = !name || name === 'all' ? SERVICES : SERVICES.filter((service) => service.name === name);
  if (services.length === 0) throw new ConfigError('migrate', [`SERVICE (or --service) must be one of ${SERVICES.map((s) => s.name).join(', ')} or all`]);
  const config = loadConfig('migrate', DatabaseConfig, env);
  if (config.DB_SCHEMA !== undefined && services.length > 1) {
    throw new ConfigError('migrate', [
      'DB_SCHEMA names the schema of one service: set SERVICE (or --service) too, or unset it to migrate each service into its own',
    ]);
  }
  return { services, config };
}

async function migrate(plan: MigrationPlan): Promise<void> {
  for (const service of plan.services) {
    const schema = plan.config.DB_SCHEMA ?? service.schema;
    const dataSource = await openServiceDataSource({ url: plan.config.DATABASE_URL, schema, migrations: service.migrations });
    const applied: { name: string }[] = await dataSource.query('SELECT name FROM schema_migrations ORDER BY id');
    process.stdout.write(`${service.name}: schema ${schema} has ${applied.length} migrations applied\n`);
    await dataSource.destroy();
  }
}

if (require.main === module) {
  Promise.resolve()
    .then(() => migrate(migrationPlan(process.argv.slice(2), process.env)))
    .catch((error: unknown) => {
      // ConfigError says "migrate: invalid configuration: …" itself.
      process.stderr.write(`${error instanceof ConfigError ? '' : 'migrate: '}${(error as Error).message}\n`);
      process.exit(1);
    });
}
