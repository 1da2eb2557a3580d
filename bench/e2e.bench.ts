/**
 * `npm run bench:e2e`: purchases end to end at a steady offered load, on the whole path as
 * production runs it. The four services run from dist as child processes (wallet,
 * payment-orchestration, history-projection, ad-signal-aggregation), the PSP simulator in this
 * process, on the machine's PostgreSQL and Kafka. A plain kafkajs producer publishes
 * PurchaseRequested at BENCH_RATE per second for BENCH_SECONDS.
 *
 * Reports captured/s; p50/p99 from publish to `payments.payment.captured` on Kafka, to the
 * purchase in the person's history, captured there, and its ledger transaction named there;
 * per purchase: CPU by process (/proc), PostgreSQL commits and statements (counted in each
 * service by a preload: COMMITs plus statements sent outside a transaction, by service and by
 * the transaction's first statement) beside the database's xact_commit (pg_stat_database), Kafka messages (high watermarks); RSS per service.
 * It ends when the work it started is done — every purchase captured, every webhook delivered
 * and applied, outboxes drained, every consumer group caught up — and counts all of it.
 *
 * Env (validated, see e2e-bench.config.ts): BENCH_RATE (60), BENCH_SECONDS (30), BENCH_PERSONS (20),
 * BENCH_NODE_OPTIONS (V8 flags for the services; by default the heap sizing of the k8s deployments),
 * BENCH_LOG_LEVEL (the services' LOG_LEVEL; `info`, as deployed),
 * and each service gets its deployment's GLIBC_TUNABLES (deploy/k8s/base/<service>/deployment.yaml),
 * BENCH_DATABASE_URL (payments_bench; its commits are counted, so nothing else should use it).
 * Needs `npm run build` and a Kafka broker of its own: `npm run bench:e2e` runs both (libs/testing/src/with-test-infra.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem, type } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, loadConfig } from '@pay/config';
import { deadLetterTopicOf, Topics } from '@pay/contracts';
import { dropSchema, parsePrometheusText, testKafka, uniqueName, waitFor } from '@pay/testing';
import type { Admin } from 'kafkajs';
import { Client } from 'pg';
import { parse as parseYaml } from 'yaml';
import type { PaymentsPlatform, StatementCounts, TestPerson } from '@pay/tools/e2e-kit';
import { countingStatements, purchaseOf, spawnFromDist, startGroupAtEnd, startPaymentsPlatform, statementCounts, stopChild } from '@pay/tools/e2e-kit';
import { E2eBenchConfig } from './e2e-bench.config';
import {
  groupLag,
  highWatermarks,
  kafkaBrokerPid,
  machineCpuSeconds,
  memoryMiB,
  postgresCpuSeconds,
  PostgresCpuMeter,
  processCpuSeconds,
  watermarkDelta,
} from './e2e-meters';
import { AUTOVACUUM_APPLICATION, AutovacuumStandIn } from './autovacuum-stand-in';
import { ensureDatabase } from '@pay/local-infra';

/** How often the history read model is looked at: the resolution of the history latencies. */
const HISTORY_POLL_MS = 100;
const WARM_UP_PURCHASES = 5;
/** How long the drained, idle platform is watched before the load: what polling costs. */
const IDLE_SECONDS = 10;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Service {
  name: string;
  process: ChildProcess;
  schema: string;
  /** The database its schema is in. */
  database: string;
  /** Its HTTP address (/metrics). */
  url: string;
}

/**
 * A service's PostgreSQL pool as its /metrics told during the load (db_client_connection_*): size,
 * most connections lent, most callers waiting, share of samples with a caller waiting.
 */
interface PoolReading {
  size?: number;
  usedMax: number;
  waitingMax: number;
  waitingShare: number;
}

/** One connection per database for everything the bench reads from PostgreSQL; its own transactions are counted, to be taken out of the services' commits. */
/** The application name of the observer's connections: PostgreSQL's CPU for them is the bench's. */
const OBSERVER_APPLICATION = 'bench-e2e-observer';

class Observer {
  queries = 0;
  private constructor(private readonly clients: Map<string, Client>) {}

  /** One connection to each database (the first is the default of `query`). */
  static async connect(urls: readonly string[]): Promise<Observer> {
    const clients = new Map<string, Client>();
    for (const url of new Set(urls)) {
      const client = new Client({ connectionString: url, application_name: OBSERVER_APPLICATION });
      await client.connect();
      clients.set(url, client);
    }
    return new Observer(clients);
  }

  /** How many databases it watches. */
  get databases(): number {
    return this.clients.size;
  }

  /** A query in the database at `url` (default: the first). */
  async query<T>(sql: string, parameters: unknown[] = [], url?: string): Promise<T[]> {
    const client = url === undefined ? this.clients.values().next().value : this.clients.get(url);
    if (!client) throw new Error(`bench: no observer connection to ${url}`);
    this.queries += 1;
    return (await client.query(sql, parameters)).rows as T[];
  }

  /** The same query in every database, rows together. */
  async queryEach<T>(sql: string, parameters: unknown[] = []): Promise<T[]> {
    const rows: T[] = [];
    for (const url of this.clients.keys()) rows.push(...(await this.query<T>(sql, parameters, url)));
    return rows;
  }

  /** Commits of the databases so far, this connection's own flushed first (statistics are flushed at most once a second otherwise). */
  async commits(): Promise<number> {
    let commits = 0;
    for (const url of this.clients.keys()) {
      await this.query('SELECT pg_stat_force_next_flush()', [], url);
      const [row] = await this.query<{ commits: string }>(
        'SELECT xact_commit::text AS commits FROM pg_stat_database WHERE datname = current_database()',
        [],
        url,
      );
      commits += Number(row.commits);
    }
    return commits;
  }

  async end(): Promise<void> {
    for (const client of this.clients.values()) await client.end();
  }
}

/** The database of each service: BENCH_DATABASE_URL's for orchestration; per service `<it>_<suffix>` unless shared. */
function serviceDatabases(config: E2eBenchConfig): Record<'wallet' | 'payment-orchestration' | 'history-projection' | 'ad-signal-aggregation', string> {
  const main = config.BENCH_DATABASE_URL;
  const own = (suffix: string): string => (config.BENCH_DATABASES === 'shared' ? main : `${main}_${suffix}`);
  return { 'payment-orchestration': main, wallet: own('wallet'), 'history-projection': own('history'), 'ad-signal-aggregation': own('ads') };
}

const q = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

interface CpuReading {
  byProcess: Record<string, number>;
  /** Every PostgreSQL process of the machine, other sessions' and exited backends included (not in byProcess). */
  postgresAll: number;
  /** The services' backends by database. */
  postgresByDatabase: Record<string, number>;
  machine: number;
  at: number;
}

/** What a deployment sets for the runtime rather than the service (glibc's malloc), taken as it is: the bench runs the services as the pods do. */
const RUNTIME_VARIABLES = ['GLIBC_TUNABLES'];

function runtimeEnvOfDeployment(service: string): Record<string, string> {
  const manifest = parseYaml(readFileSync(resolve(__dirname, '..', 'deploy/k8s/base', service, 'deployment.yaml'), 'utf8')) as {
    spec: { template: { spec: { containers: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> } } };
  };
  const env = manifest.spec.template.spec.containers.find((c) => c.name === service)?.env ?? [];
  return Object.fromEntries(env.filter((e) => RUNTIME_VARIABLES.includes(e.name) && e.value !== undefined).map((e) => [e.name, e.value!]));
}

/**
 * A service's error-level log lines, the last 50: what the bench shows when a run stalls or ends.
 * The services' logger writes the level's label (`"level":"error"`, libs/observability logger.ts).
 */
function collectErrorLines(child: ChildProcess): { count: number; last: string[] } {
  const errors = { count: 0, last: [] as string[] };
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{') || !/"level":"(error|fatal)"/.test(line)) continue;
      errors.count += 1;
      errors.last.push(line.length > 2_000 ? `${line.slice(0, 2_000)}…` : line);
      if (errors.last.length > 50) errors.last.shift();
    }
  });
  return errors;
}

/** Appends each service's stdout and stderr to `<dir>/<service>.log` (BENCH_LOG_DIR). */
async function keepOutputs(services: readonly Service[], dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const service of services) {
    const file = createWriteStream(join(dir, `${service.name}.log`), { flags: 'a' });
    service.process.stdout?.on('data', (chunk: Buffer) => file.write(chunk));
    service.process.stderr?.on('data', (chunk: Buffer) => file.write(chunk));
    service.process.once('exit', () => file.end());
  }
  progress(`services' output kept in ${dir}`);
}

/** SIGTERM, and SIGKILL if it has not exited after `graceMs` (a service that hangs on the way out must not hang the bench). */
async function stopService(service: Service, graceMs = 30_000): Promise<void> {
  const stopped = stopChild(service.process, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  if ((await Promise.race([stopped, late])) === 'late') {
    progress(`${service.name} did not exit within ${graceMs / 1000} s of SIGTERM: killed (SIGKILL)`);
    await stopChild(service.process, 'SIGKILL');
  }
  clearTimeout(timer);
}

const benchStarted = Date.now();
function progress(what: string): void {
  process.stderr.write(`[${((Date.now() - benchStarted) / 1000).toFixed(1)} s] ${what}\n`);
}

async function main(): Promise<void> {
  const config = loadConfig('bench:e2e', E2eBenchConfig);
  const RATE = config.BENCH_RATE;
  const SECONDS = config.BENCH_SECONDS;
  // The kit and the services use the test database URL: point it at the bench's own database.
  process.env.TEST_DATABASE_URL = config.BENCH_DATABASE_URL;
  const databases = serviceDatabases(config);
  for (const url of new Set(Object.values(databases))) await ensureDatabase(url);
  const statsDir = await mkdtemp(join(tmpdir(), 'bench-e2e-stats-'));
  // NODE_ENV=development: the services run as they do outside tests (under NODE_ENV=test they also
  // validate the events they build, which production does not; see outgoingEventsAreValidated).
  const preloadEnv = (name: keyof typeof databases): Record<string, string> => {
    const counting = countingStatements(statsDir, name);
    return {
      NODE_ENV: 'development',
      DATABASE_URL: databases[name],
      ...runtimeEnvOfDeployment(name),
      ...counting,
      NODE_OPTIONS: [counting.NODE_OPTIONS, config.BENCH_NODE_OPTIONS].filter(Boolean).join(' '),
    };
  };

  const platform: PaymentsPlatform = await startPaymentsPlatform({
    inProcessOrchestration: false,
    walletFromDist: true,
    // Stripe sends webhooks concurrently and in no promised order; one at a time would make the
    // simulator, not the platform, the limit of the webhook path.
    webhookConcurrency: 8,
    walletEnv: preloadEnv('wallet'),
    orchestrationEnv: { LOG_LEVEL: config.BENCH_LOG_LEVEL, ...preloadEnv('payment-orchestration') },
    logLevel: config.BENCH_LOG_LEVEL,
  });
  const services: Service[] = [
    { name: 'wallet', process: platform.wallet.process!, schema: platform.walletSchema, database: databases.wallet, url: platform.wallet.url },
  ];
  // Interrupted (Ctrl-C, or a SIGTERM from with-test-infra): the finally below does not run, so the
  // services started here would outlive the bench and keep their connections to the bench database.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      // SIGTERM: each exits as it would under its supervisor (and writes a --cpu-prof profile).
      for (const service of services) service.process.kill('SIGTERM');
      process.exit(130);
    });
  const historyGroup = uniqueName('history-projection.bench');
  const adsGroup = uniqueName('ad-signal-aggregation.bench');
  const historySchema = uniqueName('bench_history');
  const adsSchema = uniqueName('bench_ads');
  const admin: Admin = testKafka().admin();
  /** A new, connected admin client, for a look-up the first one failed (see highWatermarks). */
  const freshAdmin = async (): Promise<Admin> => {
    const client = testKafka().admin({ retry: { retries: 1 } });
    await client.connect();
    return client;
  };
  await admin.connect();
  /** Asks the consumer groups' lag, failing fast (a failed look-up is asked again by a new client, see outstanding). */
  let lagAdmin: Admin = testKafka().admin({ retry: { retries: 1 } });
  await lagAdmin.connect();
  const observer = await Observer.connect(Object.values(databases));
  let stopHistoryPolling = false;
  let autovacuum: AutovacuumStandIn | undefined;
  let historyPolling: Promise<void> = Promise.resolve();
  try {
    const orchestration = await spawnFromDist('payment-orchestration', platform.orchestrationEnv);
    services.push({
      name: 'payment-orchestration',
      process: orchestration.process,
      schema: platform.orchestrationSchema,
      database: databases['payment-orchestration'],
      url: orchestration.url,
    });
    // The projections read the real topics from where they end now: they see this run's events.
    for (const topic of [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]) await startGroupAtEnd(historyGroup, topic);
    for (const topic of [Topics.paymentEvents, Topics.walletEvents]) await startGroupAtEnd(adsGroup, topic);
    const projectionEnv = { ...platform.commonEnv, LOG_LEVEL: config.BENCH_LOG_LEVEL, OUTBOX_RELAY_NAME: 'e2e', AUTH_JWKS: JSON.stringify(platform.idp.jwks) };
    const [history, ads] = await Promise.all([
      spawnFromDist('history-projection', {
        ...projectionEnv,
        DB_SCHEMA: historySchema,
        HISTORY_CONSUMER_GROUP: historyGroup,
        ...preloadEnv('history-projection'),
      }),
      spawnFromDist('ad-signal-aggregation', {
        ...projectionEnv,
        DB_SCHEMA: adsSchema,
        AD_SIGNALS_CONSUMER_GROUP: adsGroup,
        ...preloadEnv('ad-signal-aggregation'),
      }),
    ]);
    services.push(
      { name: 'history-projection', process: history.process, schema: historySchema, database: databases['history-projection'], url: history.url },
      { name: 'ad-signal-aggregation', process: ads.process, schema: adsSchema, database: databases['ad-signal-aggregation'], url: ads.url },
    );
    const errorLines = new Map(services.map((service) => [service.name, collectErrorLines(service.process)] as const));
    if (config.BENCH_LOG_DIR) await keepOutputs(services, config.BENCH_LOG_DIR);
    const kafkaPid = kafkaBrokerPid();
    // Every production server runs autovacuum; where this one does not, the bench does its work (BENCH_AUTOVACUUM).
    const schemasByDatabase = new Map<string, string[]>();
    for (const service of services) schemasByDatabase.set(service.database, [...(schemasByDatabase.get(service.database) ?? []), service.schema]);
    autovacuum = config.BENCH_AUTOVACUUM === 'server' ? await AutovacuumStandIn.startIfOff(schemasByDatabase) : undefined;

    progress('services started; creating persons');
    const persons: TestPerson[] = [];
    for (let i = 0; i < config.BENCH_PERSONS; i += 1) persons.push(await platform.person());

    // --- What the run's work consists of, and how to tell it is all done ---
    const [{ live_version: historyVersion }] = await observer.query<{ live_version: number }>(
      `SELECT live_version FROM ${q(historySchema)}.read_model_pointer`,
      [],
      databases['history-projection'],
    );
    const historyEntries = `${q(historySchema)}.history_entries_v${Number(historyVersion)}`;
    // Only topics the broker has: a dead-letter topic no consumer needs (ad signals', support's) does
    // not exist, and asking its offsets made every drain probe wait out kafkajs' retries.
    const existing = new Set(await admin.listTopics());
    const runTopics = [platform.purchaseTopic, ...Object.values(Topics).filter((topic) => topic !== Topics.purchaseRequests)]
      .flatMap((topic) => [topic, deadLetterTopicOf(topic)])
      .filter((topic) => existing.has(topic));
    const outboxSchemas = (
      await observer.queryEach<{ schema: string }>(
        "SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'outbox' AND table_schema = ANY($1)",
        [services.map((s) => s.schema)],
      )
    ).map((row) => services.find((service) => service.schema === row.schema)!);

    const published = new Map<string, number>(); // requestId -> publish time
    const paymentOfRequest = new Map<string, string>();
    /** Payments of published purchases, from their initiated events (the only place a payment names its request). */
    const paymentsOfRun = (): string[] => {
      for (const [subject, events] of platform.events.bySubject) {
        if (paymentOfRequest.has(subject)) continue;
        const initiated = events.find((e) => e.type === 'payments.payment.initiated');
        if (initiated) paymentOfRequest.set(subject, initiated.data.requestId as string);
      }
      return [...paymentOfRequest].filter(([, requestId]) => published.has(requestId)).map(([paymentId]) => paymentId);
    };

    // History: one batched query every HISTORY_POLL_MS of the entries of purchases not yet complete there.
    const inHistory = new Map<string, { visible?: number; captured?: number; named?: number }>();
    const historyComplete = (): boolean =>
      paymentsOfRun().length === published.size && [...inHistory.values()].filter((seen) => seen.named !== undefined).length === published.size;
    const pollHistory = async (): Promise<void> => {
      while (!stopHistoryPolling) {
        const pending = paymentsOfRun().filter((paymentId) => inHistory.get(paymentId)?.named === undefined);
        if (pending.length > 0) {
          const at = Date.now();
          const rows = await observer.query<{ payment_id: string; status: string; named: boolean }>(
            `SELECT payment_id, status, ledger_transaction_id IS NOT NULL AS named FROM ${historyEntries} WHERE payment_id = ANY($1)`,
            [pending],
            databases['history-projection'],
          );
          for (const row of rows) {
            const seen = inHistory.get(row.payment_id) ?? {};
            seen.visible ??= at;
            if (row.status !== 'initiated' && row.status !== 'authorized') seen.captured ??= at;
            if (row.named) seen.named ??= at;
            inHistory.set(row.payment_id, seen);
          }
        }
        await delay(HISTORY_POLL_MS);
      }
    };

    let groups: string[] = [];
    const outstanding = async (): Promise<Record<string, number>> => {
      const before = await highWatermarks(admin, runTopics);
      const left: Record<string, number> = {};
      for (const group of groups) left[`lag ${group}`] = await groupLag(lagAdmin, group);
      if (Object.values(left).includes(Number.POSITIVE_INFINITY)) {
        // Seen on a Kafka 4.4 broker after the load: this admin's every offset look-up then failed
        // ("does not host this topic-partition") while a new client's succeeded. Ask with a new one.
        await lagAdmin.disconnect().catch(() => undefined);
        lagAdmin = testKafka().admin({ retry: { retries: 1 } });
        await lagAdmin.connect();
      }
      for (const { schema, database } of outboxSchemas) {
        const [row] = await observer.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${q(schema)}.outbox o LEFT JOIN ${q(schema)}.outbox_checkpoint c ON c.relay = 'e2e'
            WHERE c.relay IS NULL OR (o.tx_id, o.position) > (c.tx_id, c.position)`,
          [],
          database,
        );
        left[`outbox ${schema}`] = row.n;
      }
      const delivered = new Set(
        platform.simulator.webhooks
          .deliveries()
          .filter((d) => d.status !== undefined && d.status < 300)
          .map((d) => d.eventId),
      );
      left['webhooks not delivered'] = platform.simulator.webhooks.subscribed().filter((event) => !delivered.has(event.id)).length;
      const [unapplied] = await observer.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${q(platform.orchestrationSchema)}.psp_webhook_events WHERE applied_at IS NULL AND outcome IS DISTINCT FROM 'unmatched'`,
      );
      left['webhooks not applied'] = unapplied.n;
      left['purchases not complete in history'] = historyComplete() ? 0 : 1;
      const after = await highWatermarks(admin, runTopics);
      left['messages written meanwhile'] = [...watermarkDelta(before, after).values()].reduce((sum, n) => sum + n, 0);
      return left;
    };
    const drain = (what: string, timeoutMs: number): Promise<Record<string, number>> => {
      let reported = Date.now();
      const probe = async (): Promise<Record<string, number>> => {
        const left = await outstanding();
        if (Date.now() - reported > 10_000 && Object.values(left).some((n) => n !== 0)) {
          reported = Date.now();
          progress(
            `${what}: ${Object.entries(left)
              .filter(([, n]) => n !== 0)
              .map(([k, n]) => `${k}=${n}`)
              .join(', ')}`,
          );
        }
        return left;
      };
      return waitFor(probe, (left) => Object.values(left).every((n) => n === 0), { what, timeoutMs });
    };

    /**
     * Publishes `count` purchases at `rate` per second (at most `inFlight` sends in flight: a publisher
     * that fell behind on a loaded machine would otherwise catch up with thousands at once, queue them on
     * kafkajs' per-broker lock and fail after its 65 s lock timeout; behind is behind, the offered rate
     * printed shows it). `between` runs about once a second (the stall check).
     */
    const publishAtRate = async (count: number, rate: number, between: () => Promise<void> = async () => undefined): Promise<void> => {
      const started = Date.now();
      const tickMs = 100;
      const inFlight = 64;
      let sent = 0;
      let checkedAt = Date.now();
      while (sent < count) {
        const due = Math.min(count, Math.floor(((Date.now() - started) / 1000) * rate) + 1, sent + inFlight);
        const batch: Promise<void>[] = [];
        for (; sent < due; sent += 1) {
          const person = persons[sent % persons.length];
          const at = Date.now();
          batch.push(platform.publishPurchase(purchaseOf(person, 1_000n + BigInt(sent % 3_000))).then((requestId) => void published.set(requestId, at)));
        }
        await Promise.all(batch);
        if (Date.now() - checkedAt >= 1_000) {
          checkedAt = Date.now();
          await between();
        }
        if (sent < Math.floor(((Date.now() - started) / 1000) * rate)) continue; // behind: no pause
        await delay(tickMs);
      }
    };

    // --- Warm-up: connections, JIT and Kafka metadata in place, and its work done before measuring ---
    // A few purchases open connections and fetch metadata; the services' JIT compiles the purchase
    // path only under load (Session 15: the wallet optimised ~1,400 functions during a 30 s load after
    // five warm-up purchases), which a service that has run for hours did long ago: BENCH_WARMUP_SECONDS
    // of the run's own rate first, so that what is measured is a warm service's cost.
    for (const person of persons.slice(0, WARM_UP_PURCHASES)) published.set(await platform.publishPurchase(purchaseOf(person, 1_000n)), Date.now());
    if (config.BENCH_WARMUP_SECONDS > 0) {
      progress(`warm-up: ${config.BENCH_WARMUP_SECONDS} s at ${RATE}/s`);
      await publishAtRate(RATE * config.BENCH_WARMUP_SECONDS, RATE);
    }
    historyPolling = pollHistory();
    const orchestrationPrefix = `${platform.groups.orchestrationPrefix}.`;
    groups = [
      platform.groups.walletPayments,
      platform.groups.walletFunds,
      historyGroup,
      adsGroup,
      ...(await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(orchestrationPrefix)),
    ];
    await waitFor(
      () => Promise.resolve(historyComplete()),
      (done) => done,
      { what: 'warm-up purchases complete in history', timeoutMs: 120_000 + config.BENCH_WARMUP_SECONDS * 5_000 },
    );
    progress('warm-up published; draining it');
    await drain('warm-up drained', 120_000 + config.BENCH_WARMUP_SECONDS * 5_000);
    published.clear();
    inHistory.clear();

    // --- Readings before ---
    // PostgreSQL's CPU by whom it works for: on a server other sessions use too, only the run's backends and the server's own processes.
    // The services by their database's name (one database per service, or one shared by all).
    const servicesByDatabase = new Map<string, string[]>();
    for (const [name, url] of Object.entries(databases)) {
      const database = new URL(url).pathname.slice(1);
      servicesByDatabase.set(database, [...(servicesByDatabase.get(database) ?? []), name]);
    }
    const postgresMeter = new PostgresCpuMeter(
      () => observer.query('SELECT pid, datname, application_name, backend_type FROM pg_stat_activity'),
      new Set(servicesByDatabase.keys()),
      OBSERVER_APPLICATION,
      new Set([AUTOVACUUM_APPLICATION]),
    );
    await postgresMeter.sample();
    const cpu = async (): Promise<CpuReading> => {
      await postgresMeter.sample();
      const byProcess: Record<string, number> = {};
      for (const service of services) byProcess[service.name] = processCpuSeconds(service.process.pid!) ?? Number.NaN;
      byProcess['bench (with the PSP simulator)'] = processCpuSeconds(process.pid)!;
      const postgres = postgresMeter.seconds();
      byProcess["PostgreSQL (services' backends)"] = postgres.services;
      byProcess['PostgreSQL (bench observer)'] = postgres.observer;
      byProcess['PostgreSQL (WAL, checkpoints, …)'] = postgres.background;
      byProcess['Kafka broker'] = kafkaPid === undefined ? Number.NaN : (processCpuSeconds(kafkaPid) ?? Number.NaN);
      return {
        byProcess,
        postgresAll: postgresCpuSeconds(),
        postgresByDatabase: postgresMeter.servicesByDatabase(),
        machine: machineCpuSeconds(),
        at: Date.now(),
      };
    };
    const statements = async (): Promise<Record<string, StatementCounts>> =>
      Object.fromEntries(await Promise.all(services.map(async (s) => [s.name, await statementCounts(s.process.pid!, statsDir, s.name)] as const)));
    const rssMax: Record<string, number> = {};
    const sampleMemory = (): void => {
      for (const service of services) rssMax[service.name] = Math.max(rssMax[service.name] ?? 0, memoryMiB(service.process.pid!)?.rss ?? 0);
    };
    // Each service's connection pool, read from its /metrics once a second during the load: callers
    // waiting for a connection say the pool, not PostgreSQL, held the work back.
    const pools = new Map<string, { size?: number; usedMax: number; waitingMax: number; samples: number; waitingSamples: number }>();
    const samplePools = async (): Promise<void> => {
      await Promise.all(
        services.map(async (service) => {
          const text = await fetch(`${service.url}/metrics`, { signal: AbortSignal.timeout(2_000) }).then(
            (answer) => (answer.ok ? answer.text() : ''),
            () => '',
          );
          const samples = parsePrometheusText(text);
          const value = (name: string, state?: string): number | undefined =>
            samples.find((sample) => sample.name === name && (state === undefined || sample.labels.db_client_connection_state === state))?.value;
          const waiting = value('db_client_connection_pending_requests');
          if (waiting === undefined) return;
          const pool = pools.get(service.name) ?? { usedMax: 0, waitingMax: 0, samples: 0, waitingSamples: 0 };
          pool.size = value('db_client_connection_max') ?? pool.size;
          pool.usedMax = Math.max(pool.usedMax, value('db_client_connection_count', 'used') ?? 0);
          pool.waitingMax = Math.max(pool.waitingMax, waiting);
          pool.samples += 1;
          if (waiting > 0) pool.waitingSamples += 1;
          pools.set(service.name, pool);
        }),
      );
    };
    // --- Idle: what the platform costs while nothing happens (polling), per second ---
    // A backend reports its commits to pg_stat_database at most once a second, and one gone idle
    // within that second reports them only 10 s later (PostgreSQL 15's PGSTAT_IDLE_INTERVAL; only
    // the observer's own are flushed on demand): wait until the counter has stood still for 11 s,
    // else the warm-up's last commits are counted as idle ones (seen once the drain stopped taking a minute).
    /** The bench's own transactions (its observer's queries, its autovacuum stand-in's statements): not the platform's commits. */
    const benchTransactions = (): number => observer.queries + (autovacuum?.transactions ?? 0);
    // The stand-in's passes would be the idle window's only transactions: held until the window ends.
    await autovacuum?.pause();
    const settling = Date.now();
    let settledAt = settling;
    let lastCommits = await observer.commits();
    let lastQueries = benchTransactions();
    while (Date.now() - settledAt < 11_000) {
      await delay(250); // sampling the counter, bounded below
      const commits = await observer.commits();
      if (commits - lastCommits > benchTransactions() - lastQueries) settledAt = Date.now();
      if (Date.now() - settling > 40_000) break;
      [lastCommits, lastQueries] = [commits, benchTransactions()];
    }
    progress(`idle for ${IDLE_SECONDS} s`);
    const idleStatementsBefore = await statements();
    const idleQueriesBefore = benchTransactions();
    const idleCommitsBefore = await observer.commits();
    const idleCpuBefore = await cpu();
    await delay(IDLE_SECONDS * 1000); // a measured interval, not a wait for a condition
    const idleCpuAfter = await cpu();
    // The reading's own queries are transactions too, but for the last two per database (counted at the next flush).
    const idleCommits = (await observer.commits()) - idleCommitsBefore - (benchTransactions() - idleQueriesBefore - 2 * observer.databases);
    const idleStatementsAfter = await statements();
    autovacuum?.resume();
    const idleSeconds = (idleCpuAfter.at - idleCpuBefore.at) / 1000;
    const idle = {
      seconds: Number(idleSeconds.toFixed(1)),
      cpuMsPerSecond: Object.fromEntries(
        Object.entries(idleCpuAfter.byProcess).map(([name, seconds]) => [
          name,
          Number((((seconds - idleCpuBefore.byProcess[name]) * 1000) / idleSeconds).toFixed(1)),
        ]),
      ),
      commitsPerSecond: Number((idleCommits / idleSeconds).toFixed(1)),
      statementsPerSecond: Object.fromEntries(
        services.map((s) => [s.name, Number(((idleStatementsAfter[s.name].statements - idleStatementsBefore[s.name].statements) / idleSeconds).toFixed(1))]),
      ),
    };

    const statementsBefore = await statements();
    const watermarksBefore = await highWatermarks(admin, undefined, freshAdmin);
    const observerQueriesBefore = benchTransactions();
    const commitsBefore = await observer.commits();
    const cpuBefore = await cpu();
    const memorySampler = setInterval(sampleMemory, 500);
    const poolSampler = setInterval(() => void samplePools(), 1_000);
    // Backends that come and go during the load are seen at least once a second.
    const postgresSampler = setInterval(() => void postgresMeter.sample().catch(() => undefined), 1_000);

    progress('load starts');
    // --- The load ---
    const total = RATE * SECONDS;
    const capturedAt = (paymentId: string): number | undefined => platform.events.arrivals.get(`${paymentId}:payments.payment.captured`);
    const capturedCount = (): number => paymentsOfRun().filter((id) => capturedAt(id) !== undefined).length;
    // A run whose captures stop coming while purchases wait (a purchase lost on the way, a stage that
    // stopped) fails after BENCH_STALL_SECONDS with what an operator needs, rather than waiting out the
    // 15 minutes — during the load too (Session 14: a relay stopped 3 s into a load that took 194 s).
    let lastCount = -1;
    let lastProgress = Date.now();
    const failIfStalled = async (): Promise<void> => {
      const count = capturedCount();
      if (count !== lastCount || count >= published.size) [lastCount, lastProgress] = [count, Date.now()];
      else if (Date.now() - lastProgress > config.BENCH_STALL_SECONDS * 1_000) {
        const statuses = await observer.query<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM ${q(platform.orchestrationSchema)}.payments GROUP BY status ORDER BY status`,
          [],
          databases['payment-orchestration'],
        );
        const errors = [...errorLines].map(([name, e]) => `${name}: ${e.count} error line(s)${e.last.length ? `\n  ${e.last.slice(-10).join('\n  ')}` : ''}`);
        throw new Error(
          `no purchase captured for ${config.BENCH_STALL_SECONDS} s: ${count} of ${published.size} published captured, ` +
            `${paymentsOfRun().length} seen initiated on Kafka; orchestration's payments by status ${JSON.stringify(statuses)}\n${errors.join('\n')}`,
        );
      }
    };
    const started = Date.now();
    await publishAtRate(total, RATE, failIfStalled);
    const lastPublish = Date.now();
    const offeredSeconds = (lastPublish - started) / 1000;

    progress('load published; waiting for every capture');
    await waitFor(
      async () => {
        await failIfStalled();
        return capturedCount();
      },
      (n) => n === total,
      { what: 'every purchase captured', timeoutMs: 900_000, intervalMs: 500 },
    );
    const allCaptured = Date.now();
    progress('every purchase captured; draining');
    await drain('the run drained', 1_800_000);
    const drained = Date.now();
    clearInterval(memorySampler);
    clearInterval(poolSampler);
    clearInterval(postgresSampler);
    sampleMemory();

    progress('drained');
    // A relay that refused to pass unread rows, a send Kafka did not prove written, a handler's failure: counted, the last shown.
    progress(`error-level log lines: ${[...errorLines].map(([name, e]) => `${name} ${e.count}`).join(', ')}`);
    for (const [name, e] of errorLines) for (const line of e.last.slice(-5)) progress(`  ${name}: ${line}`);
    // --- Readings after ---
    const cpuAfter = await cpu();
    await autovacuum?.stop(); // its connections would count as the services' in the wait for their disconnection below
    const statementsAfter = await statements();
    const peaks = Object.fromEntries(services.map((s) => [s.name, memoryMiB(s.process.pid!)?.peak ?? Number.NaN]));
    const watermarksAfter = await highWatermarks(admin, undefined, freshAdmin);
    stopHistoryPolling = true;
    await historyPolling;
    // Commits last: a backend reports its statistics at most once a second, and all of them when it exits.
    for (const service of services) await stopService(service);
    await waitFor(
      () => observer.queryEach<{ n: number }>('SELECT numbackends AS n FROM pg_stat_database WHERE datname = current_database()'),
      (rows) => rows.every((row) => row.n <= 1),
      { what: 'the services disconnected from the database' },
    );
    // Every query of the observer is a transaction of its own; those up to the flush in commits() below are in the reading.
    const observerQueries = benchTransactions() - observerQueriesBefore;
    const commits = (await observer.commits()) - commitsBefore - observerQueries;

    // --- Figures ---
    const latencies = { captured: [] as number[], inHistory: [] as number[], capturedInHistory: [] as number[], ledgerInHistory: [] as number[] };
    let lastCapture = 0;
    for (const paymentId of paymentsOfRun()) {
      const sentAt = published.get(paymentOfRequest.get(paymentId)!)!;
      const captured = capturedAt(paymentId)!;
      const seen = inHistory.get(paymentId) ?? {};
      latencies.captured.push(captured - sentAt);
      if (seen.visible !== undefined) latencies.inHistory.push(seen.visible - sentAt);
      if (seen.captured !== undefined) latencies.capturedInHistory.push(seen.captured - sentAt);
      if (seen.named !== undefined) latencies.ledgerInHistory.push(seen.named - sentAt);
      lastCapture = Math.max(lastCapture, captured);
    }
    for (const list of Object.values(latencies)) list.sort((a, b) => a - b);
    const summary = (list: number[]) => ({ p50: percentile(list, 50), p90: percentile(list, 90), p99: percentile(list, 99), max: list.at(-1) });
    const perPurchase = (n: number): number => Number((n / total).toFixed(2));

    const cpuMs: Record<string, number> = {};
    for (const [name, seconds] of Object.entries(cpuAfter.byProcess)) cpuMs[name] = perPurchase((seconds - cpuBefore.byProcess[name]) * 1000);
    const listedTotal = Object.values(cpuMs).reduce((sum, ms) => sum + ms, 0);
    const statementsPerPurchase: Record<string, StatementCounts> = {};
    for (const service of services) {
      const after = statementsAfter[service.name];
      const before = statementsBefore[service.name];
      const perShape = (afterCounts: Record<string, number>, beforeCounts: Record<string, number> = {}): Record<string, number> => {
        const byShape: Record<string, number> = {};
        for (const [shape, n] of Object.entries(afterCounts)) {
          const delta = n - (beforeCounts[shape] ?? 0);
          if (delta > 0) byShape[shape] = perPurchase(delta);
        }
        return byShape;
      };
      statementsPerPurchase[service.name] = {
        statements: perPurchase(after.statements - before.statements),
        roundTrips: perPurchase(after.roundTrips - before.roundTrips),
        transactionControl: perPurchase(after.transactionControl - before.transactionControl),
        commits: perPurchase(after.commits - before.commits),
        shapes: perShape(after.shapes, before.shapes),
        every: perShape(after.every, before.every),
        kafkaRequests: perShape(after.kafkaRequests ?? {}, before.kafkaRequests),
        waitedMs: perShape(after.waitedMs ?? {}, before.waitedMs),
      };
    }
    const messages = watermarkDelta(watermarksBefore, watermarksAfter);
    const runTopicSet = new Set(runTopics);
    /** Unknown (null) when a topic it sums could not be read before or after: never a silent 0. */
    const unreadable = new Set([...watermarksBefore.missing, ...watermarksAfter.missing]);
    const sumOf = (filter: (topic: string) => boolean): number | null =>
      [...unreadable].some(filter) ? null : [...messages].filter(([topic]) => filter(topic)).reduce((sum, [, n]) => sum + n, 0);
    const perPurchaseOrUnknown = (n: number | null): number | null => (n === null ? null : perPurchase(n));

    const cpu0 = cpus()[0];
    const result: BenchResult & { kafka: { byTopic: Record<string, number> } } = {
      machine: `${type()} ${cpus().length} × ${cpu0?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      databases: config.BENCH_DATABASES,
      logLevel: config.BENCH_LOG_LEVEL,
      offeredRate: RATE,
      warmUpSeconds: config.BENCH_WARMUP_SECONDS,
      offeredSeconds: Number(offeredSeconds.toFixed(1)),
      purchases: total,
      capturedPerSecond: Number((total / ((lastCapture - started) / 1000)).toFixed(1)),
      latencyMs: {
        publishToCaptured: summary(latencies.captured),
        publishToInHistory: summary(latencies.inHistory),
        publishToCapturedInHistory: summary(latencies.capturedInHistory),
        publishToLedgerTransactionInHistory: summary(latencies.ledgerInHistory),
        historyResolutionMs: HISTORY_POLL_MS,
      },
      drainSeconds: {
        afterLastPublish: Number(((drained - lastPublish) / 1000).toFixed(1)),
        afterLastCapture: Number(((drained - allCaptured) / 1000).toFixed(1)),
      },
      cpuMsPerPurchase: {
        ...cpuMs,
        'total (listed processes)': Number(listedTotal.toFixed(2)),
        'machine (every process, /proc/stat)': perPurchase((cpuAfter.machine - cpuBefore.machine) * 1000),
        'PostgreSQL, every process (not in total)': perPurchase((cpuAfter.postgresAll - cpuBefore.postgresAll) * 1000),
      },
      // Which service's statements PostgreSQL works for: its backends' CPU, by the service's database
      // (a database per service; one figure for all when they share one).
      postgresBackendsMsPerPurchase: Object.fromEntries(
        [...servicesByDatabase].map(([database, names]) => [
          names.join(' + '),
          perPurchase(((cpuAfter.postgresByDatabase[database] ?? 0) - (cpuBefore.postgresByDatabase[database] ?? 0)) * 1000),
        ]),
      ),
      postgres: {
        commitsPerPurchase: perPurchase(
          Object.values(statementsAfter).reduce((sum, s) => sum + s.commits, 0) - Object.values(statementsBefore).reduce((sum, s) => sum + s.commits, 0),
        ),
        databaseCommitsPerPurchase: perPurchase(commits),
        observerTransactionsExcluded: observerQueries,
        autovacuum:
          config.BENCH_AUTOVACUUM === 'none'
            ? 'none (BENCH_AUTOVACUUM=none)'
            : autovacuum
              ? `the bench's stand-in (the server's is off): ${autovacuum.counts.vacuums} vacuums, ${autovacuum.counts.analyses} analyses over the run${autovacuum.failures.length > 0 ? `; ${autovacuum.failures.length} passes failed (${autovacuum.failures[0]})` : ''}`
              : "the server's",
        statementsPerPurchase,
        statementsPerPurchaseTotal: perPurchase(
          Object.values(statementsAfter).reduce((sum, s) => sum + s.statements, 0) - Object.values(statementsBefore).reduce((sum, s) => sum + s.statements, 0),
        ),
        // Several statements may travel in one round trip (`BEGIN; EXECUTE …`): what each trip costs is the wake-ups.
        roundTripsPerPurchaseTotal: perPurchase(
          Object.values(statementsAfter).reduce((sum, s) => sum + s.roundTrips, 0) - Object.values(statementsBefore).reduce((sum, s) => sum + s.roundTrips, 0),
        ),
      },
      kafka: {
        messagesPerPurchase: perPurchaseOrUnknown(sumOf((topic) => runTopicSet.has(topic))),
        offsetCommitsPerPurchase: perPurchaseOrUnknown(sumOf((topic) => topic === '__consumer_offsets')),
        allTopicsPerPurchase: perPurchaseOrUnknown(sumOf(() => true)),
        unreadableTopics: [...unreadable],
        byTopic: Object.fromEntries(
          [...messages].filter(([topic]) => runTopicSet.has(topic) || topic === '__consumer_offsets').sort(([a], [b]) => a.localeCompare(b)),
        ),
      },
      rssMiB: Object.fromEntries(
        services.map((s) => {
          const memory = statementsAfter[s.name].memoryMax;
          const mib = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : Math.round(bytes / 2 ** 20));
          return [
            s.name,
            { sampledMax: Math.round(rssMax[s.name]), peak: Math.round(peaks[s.name]), v8HeapMax: mib(memory?.v8Heap), externalMax: mib(memory?.external) },
          ];
        }),
      ),
      connectionPools: Object.fromEntries(
        [...pools].map(([name, pool]) => [
          name,
          { size: pool.size, usedMax: pool.usedMax, waitingMax: pool.waitingMax, waitingShare: Number((pool.waitingSamples / pool.samples).toFixed(2)) },
        ]),
      ),
      idle,
    };
    process.stdout.write(`${table(result)}\n${JSON.stringify(result, null, 2)}\n`);
    // Where PostgreSQL's time may go: the run's tables read by sequential scans (a missing index or a
    // plan gone wrong shows here first; pg_stat_statements is not loaded on these machines).
    const scans = await observer.queryEach<{
      table: string;
      seq_scan: string;
      seq_tup_read: string;
      idx_scan: string | null;
      n_live_tup: string;
      n_dead_tup: string;
    }>(
      `SELECT schemaname || '.' || relname AS table, seq_scan, seq_tup_read, idx_scan, n_live_tup, n_dead_tup
         FROM pg_stat_user_tables WHERE schemaname = ANY($1) ORDER BY seq_tup_read DESC LIMIT 8`,
      [services.map((s) => s.schema)],
    );
    process.stdout.write(`\ntables by rows read in sequential scans (seq scans, rows, index scans, live/dead rows):\n`);
    for (const row of scans)
      process.stdout.write(
        `  ${row.table.padEnd(58)} ${row.seq_scan.padStart(8)} ${row.seq_tup_read.padStart(12)} ${String(row.idx_scan ?? '-').padStart(10)} ${row.n_live_tup}/${row.n_dead_tup}\n`,
      );
  } catch (error) {
    // Said before the clean-up below, which may itself hang on what made the run fail.
    progress(`failed: ${(error as Error).message}`);
    throw error;
  } finally {
    stopHistoryPolling = true;
    await historyPolling.catch(() => undefined);
    await autovacuum?.stop().catch(() => undefined);
    for (const service of services) await stopService(service);
    await observer.end().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await lagAdmin.disconnect().catch(() => undefined);
    await platform.stop();
    await dropSchema(databases['history-projection'], historySchema).catch(() => undefined);
    await dropSchema(databases['ad-signal-aggregation'], adsSchema).catch(() => undefined);
    await rm(statsDir, { recursive: true, force: true });
  }
}

interface Percentiles {
  p50: number;
  p99: number;
}

interface BenchResult {
  machine: string;
  /** The services' LOG_LEVEL (BENCH_LOG_LEVEL). */
  logLevel: string;
  offeredRate: number;
  offeredSeconds: number;
  purchases: number;
  capturedPerSecond: number;
  latencyMs: Record<'publishToCaptured' | 'publishToInHistory' | 'publishToCapturedInHistory' | 'publishToLedgerTransactionInHistory', Percentiles> & {
    historyResolutionMs: number;
  };
  drainSeconds: { afterLastPublish: number; afterLastCapture: number };
  cpuMsPerPurchase: Record<string, number>;
  postgres: {
    commitsPerPurchase: number;
    databaseCommitsPerPurchase: number;
    observerTransactionsExcluded: number;
    /** Who vacuumed and analysed the run's tables (BENCH_AUTOVACUUM). */
    autovacuum: string;
    statementsPerPurchase: Record<string, StatementCounts>;
    statementsPerPurchaseTotal: number;
    roundTripsPerPurchaseTotal: number;
  };
  /** null: a topic's offsets could not be read (named in unreadableTopics). */
  /** BENCH_DATABASES: a database per service, or one for all. */
  databases: 'per-service' | 'shared';
  /** The services' PostgreSQL backends' CPU per purchase, by the service (its database). */
  postgresBackendsMsPerPurchase: Record<string, number>;
  /** BENCH_WARMUP_SECONDS: seconds at the run's rate before the measured load, drained and not counted. */
  warmUpSeconds: number;
  kafka: { messagesPerPurchase: number | null; offsetCommitsPerPurchase: number | null; allTopicsPerPurchase: number | null; unreadableTopics: string[] };
  /**
   * sampledMax: VmRSS every 500 ms; peak: VmHWM; v8HeapMax, externalMax: the service's own samples
   * every second (the rest of RSS is malloc, code and stacks).
   */
  rssMiB: Record<string, { sampledMax: number; peak: number; v8HeapMax?: number; externalMax?: number }>;
  idle: { seconds: number; cpuMsPerSecond: Record<string, number>; commitsPerSecond: number; statementsPerSecond: Record<string, number> };
  connectionPools: Record<string, PoolReading>;
}

function table(r: BenchResult): string {
  const ms = (s: { p50: number; p99: number }): string => `${s.p50} / ${s.p99} ms`;
  const row = (label: string, value: string | number): string => `  ${label.padEnd(44)} ${value}`;
  const lines = [
    `bench:e2e — ${r.purchases} purchases offered at ${r.offeredRate}/s for ${r.offeredSeconds} s after ${r.warmUpSeconds} s of warm-up, services at LOG_LEVEL=${r.logLevel}; ${r.machine}`,
    row('captured/s', r.capturedPerSecond),
    row('publish → captured on Kafka      p50 / p99', ms(r.latencyMs.publishToCaptured)),
    row(`publish → in history (±${r.latencyMs.historyResolutionMs} ms) p50 / p99`, ms(r.latencyMs.publishToInHistory)),
    row('publish → captured in history    p50 / p99', ms(r.latencyMs.publishToCapturedInHistory)),
    row('publish → ledger tx in history   p50 / p99', ms(r.latencyMs.publishToLedgerTransactionInHistory)),
    row('drain after the last publish / last capture', `${r.drainSeconds.afterLastPublish} s / ${r.drainSeconds.afterLastCapture} s`),
    '',
    `  ${'per purchase'.padEnd(36)} ${'CPU ms'.padStart(8)} ${'statements'.padStart(11)} ${'(tx control)'.padStart(12)} ${'commits'.padStart(8)} ${'RSS max MiB'.padStart(12)} ${'VmHWM MiB'.padStart(10)} ${'V8 heap'.padStart(8)} ${'external'.padStart(9)} ${'idle CPU ms/s'.padStart(14)}`,
  ];
  for (const [name, cpuMs] of Object.entries(r.cpuMsPerPurchase)) {
    const st = r.postgres.statementsPerPurchase[name];
    const rss = r.rssMiB[name];
    lines.push(
      `  ${name.padEnd(36)} ${cpuMs.toFixed(2).padStart(8)} ${(st ? st.statements.toFixed(1) : '').padStart(11)} ${(st ? st.transactionControl.toFixed(1) : '').padStart(12)} ${(st ? st.commits.toFixed(2) : '').padStart(8)} ${String(rss?.sampledMax ?? '').padStart(12)} ${String(rss?.peak ?? '').padStart(10)} ${String(rss?.v8HeapMax ?? '').padStart(8)} ${String(rss?.externalMax ?? '').padStart(9)} ${String(r.idle.cpuMsPerSecond[name] ?? '').padStart(14)}`,
    );
  }
  lines.push(
    '',
    row(
      "PostgreSQL services' backends by service, CPU ms / purchase",
      Object.entries(r.postgresBackendsMsPerPurchase)
        .map(([name, ms]) => `${name} ${ms}`)
        .join(', '),
    ),
    row('PostgreSQL commits / purchase (services)', r.postgres.commitsPerPurchase),
    // xact_commit also counts the read-only transaction a LISTENing backend runs to read
    // notifications, and PostgreSQL 15 wakes every listener of the database on each NOTIFY: with
    // the services in one database (BENCH_DATABASES=shared) every commit that notifies wakes every
    // service's listener; per service (the default, as in production) only its own.
    row(
      'pg_stat_database xact_commit / purchase',
      `${r.postgres.databaseCommitsPerPurchase} (NOTIFY deliveries included; ${r.databases === 'shared' ? 'one database for all' : 'a database per service'}; the bench's own ${r.postgres.observerTransactionsExcluded} excluded)`,
    ),
    row('PostgreSQL statements / purchase (services)', r.postgres.statementsPerPurchaseTotal),
    row('PostgreSQL round trips / purchase (services)', r.postgres.roundTripsPerPurchaseTotal),
    row('autovacuum', r.postgres.autovacuum),
    row("Kafka messages / purchase (the run's topics)", r.kafka.messagesPerPurchase ?? 'unknown (offsets unreadable)'),
    row('Kafka offset commits / purchase (broker-wide)', r.kafka.offsetCommitsPerPurchase ?? 'unknown (offsets unreadable)'),
    row('Kafka messages / purchase (all topics)', r.kafka.allTopicsPerPurchase ?? 'unknown (offsets unreadable)'),
    row(
      'Kafka requests / purchase (services, by API)',
      Object.entries(r.postgres.statementsPerPurchase)
        .map(
          ([name, st]) =>
            `${name} ${
              Object.entries(st.kafkaRequests ?? {})
                .sort(([, a], [, b]) => b - a)
                .map(([api, n]) => `${api} ${n}`)
                .join(' ') || '-'
            }`,
        )
        .join('; '),
    ),
    row(
      'PostgreSQL pool: size / most lent / most waiting / share of seconds waiting',
      Object.entries(r.connectionPools)
        .map(([name, pool]) => `${name} ${pool.size ?? '?'}/${pool.usedMax}/${pool.waitingMax}/${pool.waitingShare}`)
        .join(', '),
    ),
    row(`idle (${r.idle.seconds} s before the load): commits/s`, r.idle.commitsPerSecond),
    row(
      'idle: statements/s by service',
      Object.entries(r.idle.statementsPerSecond)
        .map(([name, n]) => `${name} ${n}`)
        .join(', '),
    ),
  );
  // The commits of each service by the shape of their (first) statement: where the commits go.
  for (const [name, st] of Object.entries(r.postgres.statementsPerPurchase)) {
    const shapes = Object.entries(st.shapes)
      .sort(([, a], [, b]) => b - a)
      .slice(0, 8);
    if (shapes.length === 0) continue;
    lines.push('', `  commits / purchase of ${name}, by their first statement:`);
    for (const [shape, n] of shapes) lines.push(`    ${n.toFixed(2).padStart(6)}  ${shape}`);
  }
  // Every statement of each service by shape (transaction control aside): where the statements go.
  for (const [name, st] of Object.entries(r.postgres.statementsPerPurchase)) {
    const every = Object.entries(st.every)
      .sort(([, a], [, b]) => b - a)
      .slice(0, 14);
    if (every.length === 0) continue;
    lines.push('', `  statements / purchase of ${name}, by shape (transaction control aside):`);
    for (const [shape, n] of every) lines.push(`    ${n.toFixed(2).padStart(6)}  ${shape}`);
  }
  // The service's wait for its statements (send to answer), by shape: which statements cost the time.
  for (const [name, st] of Object.entries(r.postgres.statementsPerPurchase)) {
    const waited = Object.entries(st.waitedMs ?? {})
      .sort(([, a], [, b]) => b - a)
      .slice(0, 8);
    if (waited.length === 0) continue;
    lines.push('', `  ms / purchase ${name} waited for its statements (send to answer), by shape:`);
    for (const [shape, ms] of waited) lines.push(`    ${ms.toFixed(2).padStart(6)}  ${shape}`);
  }
  return lines.join('\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`bench:e2e: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
