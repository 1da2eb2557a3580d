/**
 * What the operational tools tell their checks (`@pay/tools`): deploy/test verifies that each
 * Kubernetes Job gives its tool a configuration the tool accepts.
 */
export type { MigrationPlan } from './migrate';
export { migrationPlan } from './migrate';
export type { RebuildTarget } from './history/rebuild';
export { rebuildTarget } from './history/rebuild';
