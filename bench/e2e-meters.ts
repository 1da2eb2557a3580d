/**
 * What bench:e2e measures besides latency, read from the machine itself: CPU time and memory of
 * processes from /proc, Kafka high watermarks and consumer-group lag from the broker. The
 * statement counts of the services' preload are read through the e2e kit (statementCounts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Admin } from 'kafkajs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux for every architecture we run on). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  comm: string;
  ppid: number;
  /** utime + stime of the process (all its threads), in ticks. */
  own: number;
  /** cutime + cstime: children it has waited for (PostgreSQL's postmaster reaps exited backends). */
  children: number;
}

function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone since the directory was listed
  }
  // comm may hold spaces and parentheses: the fields after it start after the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  const tick = (i: number): number => Number(fields[i]);
  return { comm, ppid: tick(1), own: tick(11) + tick(12), children: tick(13) + tick(14) };
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^[0-9]+$/.test(entry))
    .map(Number);
}

/** CPU seconds used so far by one process (undefined when it has exited). */
export function processCpuSeconds(pid: number): number | undefined {
  const stat = procStat(pid);
  return stat === undefined ? undefined : stat.own / TICKS_PER_SECOND;
}

/**
 * CPU seconds used so far by every PostgreSQL process, backends included. Backends come and go:
 * the postmaster's reaped-children time holds the exited ones, so the sum only grows.
 */
export function postgresCpuSeconds(): number {
  const stats = new Map<number, ProcStat>();
  for (const pid of pids()) {
    const stat = procStat(pid);
    if (stat?.comm === 'postgres') stats.set(pid, stat);
  }
  let ticks = 0;
  for (const stat of stats.values()) {
    ticks += stat.own;
    if (!stats.has(stat.ppid)) ticks += stat.children; // the postmaster
  }
  return ticks / TICKS_PER_SECOND;
}

/** The Kafka broker's JVM (main class kafka.Kafka): the run's own (TEST_KAFKA_PID) when there is one. */
export function kafkaBrokerPid(): number | undefined {
  const own = Number(process.env.TEST_KAFKA_PID);
  if (Number.isInteger(own) && own > 0) return own;
  return pids().find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('kafka.Kafka');
    } catch {
      return false;
    }
  });
}

/** CPU seconds of the whole machine (every process, other users' included), from /proc/stat. */
export function machineCpuSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
  const busy = fields.slice(0, 8).reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + value), 0);
  return busy / TICKS_PER_SECOND;
}

/** Resident memory now and its peak (VmHWM), in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+([0-9]+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/**
 * The sum of every partition's high watermark, per topic: messages ever written to it. With `fresh`,
 * a topic whose offsets cannot be read is asked again (up to 3 times, through a new client: a client
 * of a loaded broker was seen failing every look-up while a new one succeeded); one still unreadable
 * is left out and named in `missing`, so the reading is reported unknown, not 0.
 */
export async function highWatermarks(
  admin: Admin,
  topics?: readonly string[],
  fresh?: () => Promise<Admin>,
): Promise<Map<string, number> & { missing: string[] }> {
  const names = topics ?? (await admin.listTopics());
  const result = Object.assign(new Map<string, number>(), { missing: [] as string[] });
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(
      names.slice(i, i + 50).map(async (topic) => {
        for (let attempt = 1; ; attempt += 1) {
          const client = attempt === 1 || !fresh ? admin : await fresh();
          try {
            const offsets = await client.fetchTopicOffsets(topic);
            result.set(
              topic,
              offsets.reduce((sum, o) => sum + Number(o.high), 0),
            );
            return;
          } catch {
            if (attempt >= 3 || !fresh) {
              result.missing.push(topic);
              return;
            }
            await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
          } finally {
            if (client !== admin) await client.disconnect().catch(() => undefined);
          }
        }
      }),
    );
  }
  return result;
}

/** Messages written between two watermark readings, per topic present in both. */
export function watermarkDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [topic, high] of after) {
    const start = before.get(topic);
    if (start !== undefined && high > start) delta.set(topic, high - start);
  }
  return delta;
}

/**
 * Messages not yet committed by a consumer group, over every topic it has committed offsets for;
 * infinite when the broker could not say (a metadata error under load: ask again, not drained).
 */
const lagErrorsSeen = new Set<string>();

export async function groupLag(admin: Admin, groupId: string): Promise<number> {
  try {
    return await lagOf(admin, groupId);
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (!lagErrorsSeen.has(reason)) {
      lagErrorsSeen.add(reason);
      process.stderr.write(`[bench] lag of ${groupId} unknown: ${reason}\n`);
    }
    return Number.POSITIVE_INFINITY;
  }
}

async function lagOf(admin: Admin, groupId: string): Promise<number> {
  const committed = await admin.fetchOffsets({ groupId });
  let lag = 0;
  for (const { topic, partitions } of committed) {
    const ends = await admin.fetchTopicOffsets(topic);
    for (const end of ends) {
      const offset = Number(partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
      lag += Number(end.high) - (offset >= 0 ? offset : Number(end.low));
    }
  }
  return lag;
}

/** Where a PostgreSQL process's CPU time is counted by PostgresCpuMeter. */
export type PostgresShare = 'services' | 'observer' | 'background' | 'other sessions';

interface BackendRow {
  pid: number;
  datname: string | null;
  application_name: string | null;
  backend_type: string | null;
}

/**
 * CPU seconds of PostgreSQL's processes by whom they work for, so that a run on a shared server
 * (other sessions' tests and benches on the same PostgreSQL) counts only its own: the backends
 * connected to the run's databases (the services'; the bench's observer apart, by its
 * application name) and the server's background processes (WAL writer, checkpointer, background
 * writer: shared with whatever else writes, so an upper bound on a busy server). Backends are
 * listed from pg_stat_activity at every `sample()` (call it every second or so): a backend that
 * exits between two samples loses the CPU it used after the last one; one that starts after the
 * first sample counts from zero, as it should.
 */
export class PostgresCpuMeter {
  /** Per PostgreSQL pid: its share, and its CPU ticks at the first and the latest sample. */
  private readonly backends = new Map<number, { share: PostgresShare; database: string | null; first: number; last: number }>();
  private started = false;

  constructor(
    private readonly listBackends: () => Promise<BackendRow[]>,
    private readonly runDatabases: ReadonlySet<string>,
    private readonly observerApplication: string,
    /** Application names of connections doing the server's own work (the bench's autovacuum stand-in). */
    private readonly backgroundApplications: ReadonlySet<string> = new Set(),
  ) {}

  /** Reads every PostgreSQL process's CPU ticks; the first call is the baseline. */
  async sample(): Promise<void> {
    const rows = await this.listBackends();
    for (const row of rows) {
      const stat = procStat(row.pid);
      if (stat?.comm !== 'postgres') continue;
      const share: PostgresShare =
        row.datname === null
          ? row.backend_type === 'client backend'
            ? 'other sessions'
            : 'background'
          : this.runDatabases.has(row.datname)
            ? row.application_name === this.observerApplication
              ? 'observer'
              : this.backgroundApplications.has(row.application_name ?? '')
                ? 'background'
                : 'services'
            : 'other sessions';
      const known = this.backends.get(row.pid);
      if (known) known.last = stat.own;
      // Present at the baseline: counted from there; started since: counted from its start.
      else this.backends.set(row.pid, { share, database: row.datname, first: this.started ? 0 : stat.own, last: stat.own });
    }
    this.started = true;
  }

  /** CPU seconds per share since the first sample, as of the latest. */
  seconds(): Record<PostgresShare, number> {
    const totals: Record<PostgresShare, number> = { services: 0, observer: 0, background: 0, 'other sessions': 0 };
    for (const backend of this.backends.values()) totals[backend.share] += (backend.last - backend.first) / TICKS_PER_SECOND;
    return totals;
  }

  /** The services' backends' CPU seconds since the first sample, by database (a database per service: by service). */
  servicesByDatabase(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const backend of this.backends.values())
      if (backend.share === 'services' && backend.database !== null)
        totals[backend.database] = (totals[backend.database] ?? 0) + (backend.last - backend.first) / TICKS_PER_SECOND;
    return totals;
  }
}
