import { Transform } from 'class-transformer';
import { IsInt, Matches, Max, Min } from 'class-validator';

const toInt = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/** Environment of `npm run bench:e2e`, validated before anything starts (a bad value names the variable). */
export class E2eBenchConfig {
  /** Purchases published per second. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of purchases per second from 1 to 5000' })
  @Min(1, { message: 'must be a whole number of purchases per second from 1 to 5000' })
  @Max(5_000, { message: 'must be a whole number of purchases per second from 1 to 5000' })
  BENCH_RATE = 60;

  /** How long the load lasts. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of seconds from 1 to 3600' })
  @Min(1, { message: 'must be a whole number of seconds from 1 to 3600' })
  @Max(3_600, { message: 'must be a whole number of seconds from 1 to 3600' })
  BENCH_SECONDS = 30;

  /** People with a saved card the purchases are spread over. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of persons from 1 to 1000' })
  @Min(1, { message: 'must be a whole number of persons from 1 to 1000' })
  @Max(1_000, { message: 'must be a whole number of persons from 1 to 1000' })
  BENCH_PERSONS = 20;

  /**
   * V8 flags added to each service's NODE_OPTIONS: by default the heap sizing the Kubernetes
   * deployments set (deploy/k8s/base/<service>/deployment.yaml); empty for Node's own sizing.
   */
  @Matches(/^(--[a-z][a-z0-9-]*(=\d+)?( |$))*$/, { message: 'must be V8/Node flags like --max-old-space-size=128, separated by spaces' })
  BENCH_NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=8';

  /** The database the services use, created if missing; its commits are counted, so no other run should share it. */
  @Matches(/^postgres(ql)?:\/\/[^/]+\/[A-Za-z0-9_]+$/, { message: 'must be a postgres:// URL naming a database, e.g. postgres://postgres@127.0.0.1:5432/payments_bench' })
  BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/payments_bench';
}
