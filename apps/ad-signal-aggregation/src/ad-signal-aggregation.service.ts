import type { ServiceDefinition } from '@pay/platform';
import { adSignalConsumers } from './ad-signals.consumers';
import { AdSignalAggregationModule } from './app.module';
import { AdSignalAggregationConfig } from './config';
import { adSignalAggregationMigrations } from './database/migrations';

export const adSignalAggregationService: ServiceDefinition<AdSignalAggregationConfig> = {
  name: 'ad-signal-aggregation',
  schema: 'ad_signal_aggregation',
  defaultPort: 3004,
  title: 'Ad Signal Aggregation API',
  description: 'Windowed, k-anonymous aggregates of payment usage for advertisers.',
  configClass: AdSignalAggregationConfig,
  migrations: adSignalAggregationMigrations,
  rootModule: (platform) => AdSignalAggregationModule.forRoot(platform),
  consumers: adSignalConsumers,
};
