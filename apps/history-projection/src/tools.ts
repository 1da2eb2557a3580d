/**
 * history-projection's public entry for what runs beside it: operational tools (rebuild),
 * benches, deploy checks and end-to-end tests (`@pay/history-projection/tools`). Apps import no
 * app; only those may import this.
 */
export { historyProjectionService } from './history-projection.service';
export { historyProjectionMigrations } from './database/migrations';
export { HistoryProjectionConfig } from './config';
export { storeAndProject } from './project-events/store-and-project';
export { LiveVersionGuess } from './project-events/project-chunk';
export { entryFromRecord } from './project-events/project-events';
export type { AggregateRequest } from './aggregate-history/aggregate-query';
export { aggregateQuery } from './aggregate-history/aggregate-query';
export type { HistoryFilters, HistoryScope } from './query-history/history-query';
export { HistoryReader } from './query-history/history-reader';
export { readModelTables } from './read-model/read-model-tables';
export type { RebuildProgress } from './rebuild-read-model/rebuild-read-model';
export { readModelChecksums, rebuildReadModel, RebuildAlreadyRunningError } from './rebuild-read-model/rebuild-read-model';
