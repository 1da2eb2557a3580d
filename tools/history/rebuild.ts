/**
 * npm run history:rebuild — replays every event the history projection has stored into a new
 * version of its read tables while the current version keeps serving, shows progress (events
 * done, rate, time left), then switches over atomically. Stopped or crashed midway, the current
 * version keeps serving and the next run resumes from the last committed batch.
 *
 * Env: DATABASE_URL, DB_SCHEMA (default history_projection), as the service, and nothing else:
 * it replays the events the projection stored in its own tables (no Kafka), and validates only
 * these two (DatabaseConfig), so it runs without the service's keys.
 * Flags: --batch=N (events per transaction, default 20000), --restart (discard an unfinished
 * rebuild and start over), --keep-retired=N (retired versions kept after the switch, default 1).
 */
import 'reflect-metadata';
import { ConfigError, DatabaseConfig, loadConfig } from '@pay/config';
import { describeDatabaseUrl, openServiceDataSource } from '@pay/platform';
import { historyProjectionMigrations, historyProjectionService, RebuildAlreadyRunningError, rebuildReadModel } from '@pay/history-projection/tools';
import type { RebuildProgress } from '@pay/history-projection/tools';
import { parseCommandLine, wholeNumberFlag } from '../command-line';

interface Flags {
  batch: number;
  restart: boolean;
  keepRetired: number;
}

const USAGE = 'usage: npm run history:rebuild -- [--batch=N (1-50000)] [--restart] [--keep-retired=N (0-10)]';

function parseFlags(argv: readonly string[]): Flags {
  const values = parseCommandLine(argv, { batch: { type: 'string' }, restart: { type: 'boolean' }, 'keep-retired': { type: 'string' } }, USAGE);
  return {
    batch: wholeNumberFlag('batch', values.batch, { min: 1, max: 50_000, fallback: 20_000 }, USAGE),
    restart: values.restart ?? false,
    keepRetired: wholeNumberFlag('keep-retired', values['keep-retired'], { min: 0, max: 10, fallback: 1 }, USAGE),
  };
}

/** Where to rebuild, validated before anything is opened. */
export interface RebuildTarget {
  /** The only settings read: DATABASE_URL and DB_SCHEMA. */
  config: DatabaseConfig;
  schema: string;
}

/** Throws ConfigError (one line: what is wrong, never a value) for a bad DATABASE_URL or DB_SCHEMA. */
export function rebuildTarget(env: NodeJS.ProcessEnv): RebuildTarget {
  const config = loadConfig('history:rebuild', DatabaseConfig, env);
  return { config, schema: config.DB_SCHEMA ?? historyProjectionService.schema };
}

const number = (n: number): string => n.toLocaleString('en');

function duration(seconds: number | null): string {
  if (seconds === null) return '?';
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${seconds % 60} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function describeProgress(p: RebuildProgress): string {
  const share = p.eventsTotal > 0 ? ((100 * p.eventsDone) / p.eventsTotal).toFixed(1) : '100.0';
  return `version ${p.version} ${p.phase}: ${number(p.eventsDone)} / ${number(p.eventsTotal)} events (${share}%), ${number(p.eventsPerSecond)} events/s, ${duration(p.secondsLeft)} left`;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const { config, schema } = rebuildTarget(process.env);
  const dataSource = await openServiceDataSource({
    url: config.DATABASE_URL,
    schema,
    migrations: historyProjectionMigrations,
    poolSize: 6,
    applicationName: 'history-rebuild',
  });
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  process.stderr.write(`history rebuild of schema ${schema} at ${describeDatabaseUrl(config.DATABASE_URL)}\n`);
  try {
    const result = await rebuildReadModel({
      dataSource,
      batchSize: flags.batch,
      restart: flags.restart,
      keepRetired: flags.keepRetired,
      onProgress: (progress) => {
        const line = describeProgress(progress);
        if (tty) process.stderr.write(`\r\u001b[2K${line}`);
        else if (Date.now() - lastLine > 5_000 || progress.phase !== 'replaying') {
          process.stderr.write(`${line}\n`);
          lastLine = Date.now();
        }
      },
    });
    if (tty) process.stderr.write('\n');
    process.stdout.write(
      `version ${result.version} is live (was ${result.previousVersion})${result.resumed ? ', resumed' : ''}: ${number(result.events)} events in ${result.seconds.toFixed(1)} s (${number(result.eventsPerSecond)} events/s)` +
        `${result.droppedVersions.length > 0 ? `; dropped retired versions ${result.droppedVersions.join(', ')}` : ''}\n`,
    );
  } catch (error) {
    if (tty) process.stderr.write('\n');
    if (error instanceof RebuildAlreadyRunningError) process.stderr.write(`history:rebuild: ${error.message}\n`);
    else process.stderr.write(`history:rebuild: stopped, the current version keeps serving; run again to resume: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    // A bad flag or configuration: one line that says what is wrong (ConfigError names the tool itself).
    process.stderr.write(`${error instanceof ConfigError ? '' : 'history:rebuild: '}${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
