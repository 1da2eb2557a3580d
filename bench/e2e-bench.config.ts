import { IsWholeNumber } from '@pay/config';
import { IsIn, IsOptional, Matches } from 'class-validator';

/** Environment of `npm run bench:e2e`, validated before anything starts (a bad value names the variable). */
export class E2eBenchConfig {
  /** Purchases published per second. */
  @IsWholeNumber({ min: 1, max: 5_000, unit: 'purchases per second' })
  BENCH_RATE = 60;

  /** How long the load lasts. */
  @IsWholeNumber({ min: 1, max: 3_600, unit: 'seconds' })
  BENCH_SECONDS = 30;

  /**
   * Before the measured load, this many seconds at BENCH_RATE, drained and not counted: the services'
   * JIT compiles the purchase path under load, which a long-running service did long ago. 0: only
   * five purchases first (connections, metadata), as before session 15.
   */
  @IsWholeNumber({ min: 0, max: 600, unit: 'seconds' })
  BENCH_WARMUP_SECONDS = 20;

  /** People with a saved card the purchases are spread over. */
  @IsWholeNumber({ min: 1, max: 1_000, unit: 'persons' })
  BENCH_PERSONS = 20;

  /**
   * V8 flags added to each service's NODE_OPTIONS: by default the heap sizing the Kubernetes
   * deployments set (deploy/k8s/base/<service>/deployment.yaml); empty for Node's own sizing. Add
   * `--cpu-prof --cpu-prof-dir=DIR` to profile the services (each writes its profile when it stops).
   */
  @Matches(/^(--[a-z][a-z0-9-]*(=[\w./-]+)?( |$))*$/, {
    message: 'must be V8/Node flags like --max-old-space-size=128 or --cpu-prof-dir=/tmp/prof, separated by spaces',
  })
  BENCH_NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=8';

  /**
   * The services' LOG_LEVEL: `info`, as the deployments run (deploy/k8s/base), access lines and
   * per-payment lines included. Sessions before 21 ran at `warn`, without them.
   */
  @IsIn(['fatal', 'error', 'warn', 'info'])
  BENCH_LOG_LEVEL = 'info';

  /** The database the services use, created if missing; its commits are counted, so no other run should share it. */
  @Matches(/^postgres(ql)?:\/\/[^/]+\/[A-Za-z0-9_]+$/, {
    message: 'must be a postgres:// URL naming a database, e.g. postgres://postgres@127.0.0.1:5432/payments_bench',
  })
  BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/payments_bench';

  /**
   * `per-service` (default): each service in a database of its own on the one server, as in
   * production (docs/deploy.md) — orchestration in BENCH_DATABASE_URL's, the others in `<it>_wallet`,
   * `<it>_history`, `<it>_ads` — so a NOTIFY wakes only its own service's listeners. `shared`: all in
   * BENCH_DATABASE_URL's, as `npm start` and the test tiers run them (every service's LISTEN connection
   * woken by every commit that notifies).
   */
  @IsIn(['per-service', 'shared'])
  BENCH_DATABASES: 'per-service' | 'shared' = 'per-service';

  /**
   * `server` (default): the server's autovacuum maintains the run's tables when it is on; when it is
   * off (as on the project's machines), the bench does what it would (bench/autovacuum-stand-in.ts:
   * autovacuum's default thresholds, looked at every 5 s, its CPU counted as PostgreSQL's), since every
   * production server runs autovacuum and without it cached plans built on empty tables scan whole
   * tables for the rest of the run. `none`: nobody vacuums or analyses (to see that effect).
   */
  @IsIn(['server', 'none'])
  BENCH_AUTOVACUUM: 'server' | 'none' = 'server';

  /**
   * After the load, how long the count of captured purchases may stand still before the run fails,
   * naming orchestration's payments by status and each service's last error-level log lines (a
   * purchase lost on the way would otherwise keep the run waiting for 15 minutes).
   */
  @IsWholeNumber({ min: 10, max: 900, unit: 'seconds' })
  BENCH_STALL_SECONDS = 90;

  /**
   * A directory to keep each service's whole output in (`<service>.log`, its stdout and stderr as
   * written): what to read when a run stalls. Unset: only error-level lines are kept (the last 50).
   */
  @IsOptional()
  @Matches(/^\/[\w./-]+$/, { message: 'must be an absolute directory path, e.g. /tmp/bench-logs' })
  BENCH_LOG_DIR?: string;
}
