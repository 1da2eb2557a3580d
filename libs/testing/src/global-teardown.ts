import { runInfrastructure, stopAll } from './global-setup';

/**
 * Runs once after the integration or end-to-end tier: stops what the global set-up started (the
 * run's own broker, the containers), so that nothing of a test run is left running. When one
 * Jest run selected both tiers, the last teardown stops it.
 */
export default async function globalTeardown(): Promise<void> {
  const running = runInfrastructure();
  if (!running) return;
  running.users -= 1;
  if (running.users > 0) return;
  await stopAll(running.stops);
}
