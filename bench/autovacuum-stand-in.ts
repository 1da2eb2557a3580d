/**
 * What PostgreSQL's autovacuum does for a run's tables, for a server where it is off (the project's
 * machines run PostgreSQL with `autovacuum = off`; every production server runs it). Without it a
 * table is never analysed: a statement prepared while its table was empty keeps a plan that scans
 * the whole table for as long as the connection lives (nothing invalidates it), and a queue table
 * (payment steps, in-progress rows) keeps every dead row for each scan to walk. The stand-in applies
 * autovacuum's rules with its default thresholds to the tables of the given schemas at start and then
 * every `everyMs` (LOOK_EVERY_MS: see there why not autovacuum_naptime's minute):
 *
 * - VACUUM (ANALYZE) when dead rows > autovacuum_vacuum_threshold (50) + autovacuum_vacuum_scale_factor (0.2) × live rows,
 *   or rows inserted since the last vacuum > autovacuum_vacuum_insert_threshold (1000) + 0.2 × live rows;
 * - ANALYZE when rows changed since the last analyse > autovacuum_analyze_threshold (50) + autovacuum_analyze_scale_factor (0.1) × live rows.
 *
 * Its connections carry AUTOVACUUM_APPLICATION as their application name, so that the bench counts
 * their CPU as PostgreSQL's background work, as an autovacuum worker's would be.
 */
import { Client } from 'pg';

export const AUTOVACUUM_APPLICATION = 'bench-e2e-autovacuum';

/**
 * How often it looks: autovacuum_naptime is a minute by default, but a bench run lasts two while
 * its tables grow from nothing to tens of thousands of rows; a production server's tables have
 * grown for months and its plans fit them. Looking every 5 s keeps the plans as current as a
 * long-running server's (the thresholds, not the look, decide what is vacuumed or analysed).
 */
const LOOK_EVERY_MS = 5_000;

interface TableActivity {
  schema: string;
  table: string;
  live: string;
  dead: string;
  modified: string;
  inserted: string;
}

export interface AutovacuumStandInCounts {
  vacuums: number;
  analyses: number;
}

export class AutovacuumStandIn {
  readonly counts: AutovacuumStandInCounts = { vacuums: 0, analyses: 0 };
  /**
   * Statements it has run, each a transaction of its own: the bench subtracts them from the
   * databases' commits as it does its observer's (a VACUUM may commit a few internal transactions
   * more; a handful per run).
   */
  transactions = 0;
  /** Why passes failed, if any did. */
  readonly failures: string[] = [];
  private timer?: NodeJS.Timeout;
  private paused = false;
  private stopped = false;
  /** A pass fell in a pause: it runs at resume(). */
  private missed = false;
  private pass: Promise<void> = Promise.resolve();

  private constructor(
    private readonly clients: Array<{ client: Client; schemas: string[] }>,
    private readonly everyMs: number,
  ) {}

  /**
   * Starts when the server's autovacuum is off (undefined otherwise: the server does it).
   * `schemasByDatabase`: the run's schemas in each database URL.
   */
  static async startIfOff(schemasByDatabase: ReadonlyMap<string, readonly string[]>, everyMs = LOOK_EVERY_MS): Promise<AutovacuumStandIn | undefined> {
    const clients: Array<{ client: Client; schemas: string[] }> = [];
    for (const [url, schemas] of schemasByDatabase) {
      const client = new Client({ connectionString: url, application_name: AUTOVACUUM_APPLICATION });
      await client.connect();
      clients.push({ client, schemas: [...schemas] });
    }
    const [{ autovacuum }] = (await clients[0].client.query<{ autovacuum: string }>('SHOW autovacuum')).rows;
    if (autovacuum === 'on') {
      for (const { client } of clients) await client.end();
      return undefined;
    }
    const standIn = new AutovacuumStandIn(clients, everyMs);
    await standIn.runPass();
    standIn.schedule();
    return standIn;
  }

  /**
   * Holds the passes (the bench's idle window: its commits must be the platform's alone) until
   * resume(); returns once a pass under way has ended.
   */
  async pause(): Promise<void> {
    this.paused = true;
    await this.pass;
  }

  /** Lets passes run again; one that fell in the pause runs now. */
  resume(): void {
    this.paused = false;
    if (this.missed && !this.stopped) {
      this.missed = false;
      this.pass = this.pass.then(() => this.safePass());
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      if (this.paused) this.missed = true;
      this.pass = (this.paused ? Promise.resolve() : this.pass.then(() => this.safePass())).finally(() => {
        if (this.timer) this.schedule();
      });
    }, this.everyMs);
  }

  /** A pass whose failure (a table dropped meanwhile, the server restarting) is kept for the report, not thrown: the next pass tries again. */
  private async safePass(): Promise<void> {
    try {
      await this.runPass();
    } catch (error) {
      this.failures.push((error as Error).message);
    }
  }

  /** One look at every table, vacuuming and analysing those past autovacuum's thresholds. */
  private async runPass(): Promise<void> {
    for (const { client, schemas } of this.clients) {
      const { rows } = await client.query<TableActivity>(
        `SELECT schemaname AS schema, relname AS "table", n_live_tup::text AS live, n_dead_tup::text AS dead,
                n_mod_since_analyze::text AS modified, n_ins_since_vacuum::text AS inserted
           FROM pg_stat_user_tables WHERE schemaname = ANY($1)`,
        [schemas],
      );
      this.transactions += 1;
      for (const row of rows) {
        const live = Number(row.live);
        const name = `"${row.schema.replace(/"/g, '""')}"."${row.table.replace(/"/g, '""')}"`;
        if (Number(row.dead) > 50 + 0.2 * live || Number(row.inserted) > 1_000 + 0.2 * live) {
          await client.query(`VACUUM (ANALYZE) ${name}`);
          this.transactions += 1;
          this.counts.vacuums += 1;
          this.counts.analyses += 1;
        } else if (Number(row.modified) > 50 + 0.1 * live) {
          await client.query(`ANALYZE ${name}`);
          this.transactions += 1;
          this.counts.analyses += 1;
        }
      }
      // Its transactions reach pg_stat_database now, not up to 10 s later: the bench subtracts them as they happen.
      await client.query('SELECT pg_stat_force_next_flush()');
      this.transactions += 1;
    }
  }

  /** Stops the passes and closes its connections; again, does nothing. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const timer = this.timer;
    this.timer = undefined;
    clearTimeout(timer);
    await this.pass;
    for (const { client } of this.clients) await client.end();
  }
}
