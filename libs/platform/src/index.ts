export * from './database/data-source';
// The SQL interface and its helpers live below platform and messaging (libs/sql); re-exported for the services.
export * from '@pay/sql';
export * from './service/tokens';
export * from './service/preflight';
export * from './service/platform.module';
export * from './service/run-service';
export * from './service/supervisor-lifeline';
export * from './health/health.controller';
export * from './scheduling/deadline-scheduler';
export * from './rate-limits/token-buckets';
export * from './database/pool-metrics';
