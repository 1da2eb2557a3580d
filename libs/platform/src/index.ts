export * from './database/data-source';
export * from './database/sql';
export * from './service/tokens';
export * from './service/preflight';
export * from './service/platform.module';
export * from './service/run-service';
export * from './health/health.controller';
export * from './scheduling/deadline-scheduler';
