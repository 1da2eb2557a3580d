/**
 * Applies pending migrations of one service (`SERVICE=wallet` or `--service wallet`) or of all
 * four. Kubernetes runs it as a Job before a rollout (services there start with
 * DB_MIGRATE_ON_START=false). Run from the build: `npm run db:migrate` or
 * `node dist/tools/migrate.js --service wallet`.
 */
import 'reflect-metadata';
import { loadConfig } from '@pay/config';
import type { ServiceDefinition } from '@pay/platform';
import { openServiceDataSource } from '@pay/platform';
import { adSignalAggregationService } from '../apps/ad-signal-aggregation/src/ad-signal-aggregation.service';
import { historyProjectionService } from '../apps/history-projection/src/history-projection.service';
import { paymentOrchestrationService } from '../apps/payment-orchestration/src/payment-orchestration.service';
import { walletService } from '../apps/wallet/src/wallet.service';

const SERVICES = [walletService, paymentOrchestrationService, historyProjectionService, adSignalAggregationService] as ServiceDefinition[];

function requestedServices(argv: string[], env: NodeJS.ProcessEnv): ServiceDefinition[] {
  const flag = argv.indexOf('--service');
  const name = flag >= 0 ? argv[flag + 1] : env.SERVICE;
  if (!name || name === 'all') return SERVICES;
  const found = SERVICES.find((service) => service.name === name);
  if (!found) throw new Error(`unknown service "${name}": use one of ${SERVICES.map((s) => s.name).join(', ')} or all`);
  return [found];
}

async function migrate(): Promise<void> {
  for (const service of requestedServices(process.argv.slice(2), process.env)) {
    const config = loadConfig(service.name, service.configClass);
    const schema = config.DB_SCHEMA ?? service.schema;
    const dataSource = await openServiceDataSource({ url: config.DATABASE_URL, schema, migrations: service.migrations });
    const applied: { name: string }[] = await dataSource.query('SELECT name FROM schema_migrations ORDER BY id');
    process.stdout.write(`${service.name}: schema ${schema} has ${applied.length} migrations applied\n`);
    await dataSource.destroy();
  }
}

migrate().catch((error: unknown) => {
  process.stderr.write(`migrate: ${(error as Error).message}\n`);
  process.exit(1);
});
