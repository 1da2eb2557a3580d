import type { ServiceDefinition } from '@pay/platform';
import { HistoryProjectionModule } from './app.module';
import { HistoryProjectionConfig } from './config';
import { historyProjectionMigrations } from './database/migrations';
import { historyConsumers } from './history.consumers';

export const historyProjectionService: ServiceDefinition<HistoryProjectionConfig> = {
  name: 'history-projection',
  schema: 'history_projection',
  defaultPort: 3003,
  title: 'History Projection API',
  description: "Read models of every person's and merchant's payment history, for people and analysts.",
  configClass: HistoryProjectionConfig,
  migrations: historyProjectionMigrations,
  rootModule: (platform) => HistoryProjectionModule.forRoot(platform),
  consumers: historyConsumers,
};
