import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { ServiceName } from '@pay/contracts';
import type {
  Account,
  AppendedEntry,
  ChainVerification,
  Clock,
  CommandOutcome,
  EntryKind,
  JournalEntry,
  LedgerCommand,
  OpenAccountInput,
  ValidatedCommand,
} from '@pay/ledger-domain';
import type { OutboxMessage } from '@pay/messaging';
import type { GroupCommitOptions } from '@pay/messaging';
import { DEFAULT_GROUP_COMMIT, GroupCommit, retrying } from '@pay/messaging';
import { LedgerError, systemClock, transactionIdOf, validateCommand } from '@pay/ledger-domain';
import { traceHeaders } from '@pay/observability';
import type { DataSource, QueryRunner } from 'typeorm';
import { findAccount, openAccount } from './accounts';
import type { AccountBalance, AsOf, StatementPage } from './balance-queries';
import { balanceAsOf, currentBalance, statementPage } from './balance-queries';
import type { AppendContext } from './journal-appender';
import { appendBatch, appendInTransaction } from './journal-appender';
import { ledgerOutboxMessage } from './ledger-events';
import type { BalanceDrift, RebuildReport } from './rebuild-balances';
import { balanceDrift, rebuildBalances } from './rebuild-balances';
import { inTransaction, isRetryable, sqlOf } from './sql';
import type { VerifyOptions } from './verify-journal';
import { verifyJournal } from './verify-journal';

export interface PostgresLedgerOptions {
  readonly clock?: Clock;
  readonly groupCommit?: Partial<GroupCommitOptions>;
  /** The `source` of outgoing events. */
  readonly eventSource?: ServiceName;
  /** How often a batch that hit a serialization failure or deadlock is run again. */
  readonly maxRetries?: number;
  /** Called after every group-committed batch (metrics: batch sizes and commit times). */
  readonly onBatch?: (batch: BatchStats) => void;
}

export interface BatchStats {
  /** Commands in the batch. */
  readonly size: number;
  /** Commands recorded as new entries (replays and refusals are not). */
  readonly appended: number;
  readonly durationMs: number;
  /** Each command recorded (appended or replayed; refusals left out), by entry kind. */
  readonly recorded: readonly { readonly kind: EntryKind; readonly replayed: boolean }[];
}

/** A recorded command: the journal entry, and whether it was recorded earlier (a retry). */
export interface Recorded {
  readonly entry: JournalEntry;
  readonly replayed: boolean;
}

/** A command to record in a caller's transaction, with the trace its entry's event continues. */
export interface TracedCommand {
  readonly command: LedgerCommand;
  /** W3C headers (`traceparent`) of the caller's span for this command; default: the active context's. */
  readonly trace?: Record<string, string>;
}

/**
 * The ledger on PostgreSQL. Writes go through group commit (many concurrent commands, one
 * database transaction, each command accepted or rejected on its own); reads go straight to
 * the database. Raw parameterised SQL only: no entity metadata, so it runs under tsx as well.
 */
export class PostgresLedger {
  private readonly committer: GroupCommit<ValidatedCommand, CommandOutcome>;
  private readonly append: AppendContext;
  private readonly clock: Clock;
  private readonly maxRetries: number;
  private readonly onBatch: ((batch: BatchStats) => void) | undefined;
  private readonly eventSource: ServiceName;
  /**
   * The trace context of each command waiting in a batch, by transaction id: a batch commits many
   * callers' commands, and each entry's event must continue its own caller's trace, not the trace
   * of whoever started the batch.
   */
  private readonly traces = new Map<string, Record<string, string>>();
  /** Told the expiry of each hold this process records, so an expiry sweeper need not poll for new ones. */
  private readonly expiryWatchers = new Set<(expiresAt: Date) => void>();

  constructor(
    private readonly dataSource: DataSource,
    options: PostgresLedgerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxRetries = options.maxRetries ?? 3;
    this.onBatch = options.onBatch;
    const source = options.eventSource ?? 'wallet';
    this.eventSource = source;
    this.append = {
      dataSource,
      now: () => this.clock.now(),
      toOutbox: (appended) => {
        const message = ledgerOutboxMessage(appended, source);
        const trace = this.traces.get(appended.entry.transactionId);
        return trace ? { ...message, headers: trace } : message;
      },
    };
    this.committer = new GroupCommit((commands) => this.runBatch(commands), { ...DEFAULT_GROUP_COMMIT, ...options.groupCommit });
  }

  async openAccount(input: OpenAccountInput): Promise<{ account: Account; created: boolean }> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return await openAccount(sqlOf(runner), input);
    } finally {
      await runner.release();
    }
  }

  async findAccount(id: string): Promise<Account | undefined> {
    return this.read((sql) => findAccount(sql, id));
  }

  /**
   * Records a command and resolves with its entry; a refused command rejects with a
   * LedgerError (code and reason). Malformed commands are refused before they join a batch.
   */
  async record(command: LedgerCommand): Promise<Recorded> {
    const outcome = await this.submit(command);
    if (!outcome.ok) throw outcome.error;
    return { entry: outcome.entry, replayed: outcome.replayed };
  }

  /**
   * Like record, but a refusal (malformed input included) is returned as an outcome instead of
   * thrown; only infrastructure failures reject.
   */
  async submit(command: LedgerCommand): Promise<CommandOutcome> {
    let valid: ValidatedCommand;
    try {
      valid = validateCommand(command);
    } catch (error) {
      if (error instanceof LedgerError) return { ok: false, error };
      throw error;
    }
    const transactionId = transactionIdOf(valid);
    const trace = traceHeaders();
    if (!('traceparent' in trace)) return this.committer.submit(valid);
    this.traces.set(transactionId, trace);
    try {
      return await this.committer.submit(valid);
    } finally {
      if (this.traces.get(transactionId) === trace) this.traces.delete(transactionId);
    }
  }

  /**
   * Records commands in the caller's transaction (`runner` must be inside one), in one append:
   * the same rules, chain lock, hash chain, balance guards, idempotency by transaction id and
   * outbox events as `submit`, but committed (or rolled back) with the caller's own writes, so
   * that an effect and its ledger entries are one atomic step. Outcomes are in command order; a
   * refusal is an outcome and leaves no trace. Any error rejects and the caller must roll back.
   * The chain head stays locked until the caller commits: append last, commit at once.
   */
  async recordWithin(runner: QueryRunner, commands: readonly TracedCommand[]): Promise<CommandOutcome[]> {
    const outcomes: Array<CommandOutcome | undefined> = [];
    const valid: ValidatedCommand[] = [];
    const traces = new Map<string, Record<string, string>>();
    for (const { command, trace } of commands) {
      try {
        const checked = validateCommand(command);
        valid.push(checked);
        outcomes.push(undefined);
        const headers = trace ?? traceHeaders();
        if ('traceparent' in headers) traces.set(transactionIdOf(checked), headers);
      } catch (error) {
        if (!(error instanceof LedgerError)) throw error;
        outcomes.push({ ok: false, error });
      }
    }
    if (valid.length === 0) return outcomes as CommandOutcome[];
    const started = performance.now();
    const toOutbox = (appended: AppendedEntry): OutboxMessage => {
      const message = ledgerOutboxMessage(appended, this.eventSource);
      const trace = traces.get(appended.entry.transactionId);
      return trace ? { ...message, headers: trace } : message;
    };
    const recorded = await appendInTransaction(sqlOf(runner), { now: () => this.clock.now(), toOutbox }, valid);
    this.onBatch?.({
      size: valid.length,
      appended: recorded.filter((o) => o.ok && !o.replayed).length,
      durationMs: performance.now() - started,
      recorded: recordedOf(recorded),
    });
    this.announceExpiries(recorded);
    let next = 0;
    return outcomes.map((outcome) => outcome ?? recorded[next++]);
  }

  async balance(accountId: string): Promise<AccountBalance> {
    return this.read((sql) => currentBalance(sql, accountId));
  }

  async balanceAsOf(accountId: string, asOf: AsOf): Promise<AccountBalance> {
    return this.read((sql) => balanceAsOf(sql, accountId, asOf));
  }

  async statement(accountId: string, options: { cursor?: string; limit?: number } = {}): Promise<StatementPage> {
    return this.read((sql) => statementPage(sql, accountId, options));
  }

  /**
   * Releases holds whose expiry has passed (through the same group commit as every write, so
   * each release is a chained journal entry). A hold resolved meanwhile is left alone: its
   * expiry is refused under the chain lock. Returns how many holds this call released.
   */
  async expireDueReservations(limit = 500): Promise<number> {
    const due = await this.read((sql) =>
      sql.query<{ reservation_id: string }>('SELECT reservation_id FROM pending_reservations WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2', [
        this.clock.now(),
        limit,
      ]),
    );
    const outcomes = await Promise.all(due.map((row) => this.submit({ type: 'expire_reservation', reservationId: row.reservation_id })));
    return outcomes.filter((o) => o.ok && !o.replayed).length;
  }

  /** When the next pending hold expires (undefined: none is pending). */
  async nextReservationExpiry(): Promise<Date | undefined> {
    const [row] = await this.dataSource.query<{ next: Date | null }[]>('SELECT min(expires_at) AS next FROM pending_reservations');
    return row?.next ? new Date(row.next) : undefined;
  }

  /** Calls `watcher` with the expiry of every hold this instance records from now on; returns how to stop. */
  watchReservationExpiries(watcher: (expiresAt: Date) => void): () => void {
    this.expiryWatchers.add(watcher);
    return () => this.expiryWatchers.delete(watcher);
  }

  async verify(options?: VerifyOptions): Promise<ChainVerification> {
    return this.read((sql) => verifyJournal(sql, options));
  }

  async balanceDrift(): Promise<BalanceDrift[]> {
    return this.read((sql) => balanceDrift(sql));
  }

  async rebuildBalances(): Promise<RebuildReport> {
    return inTransaction(this.dataSource, (sql) => rebuildBalances(sql));
  }

  /** Finishes the batches already submitted and refuses new commands. */
  async close(): Promise<void> {
    await this.committer.close();
  }

  private announceExpiries(outcomes: readonly CommandOutcome[]): void {
    if (this.expiryWatchers.size === 0) return;
    for (const outcome of outcomes) {
      if (!outcome.ok || outcome.replayed || !outcome.entry.expiresAt) continue;
      for (const watcher of this.expiryWatchers) watcher(outcome.entry.expiresAt);
    }
  }

  private async read<T>(work: Parameters<typeof inTransaction<T>>[1]): Promise<T> {
    return inTransaction(this.dataSource, work, 'REPEATABLE READ');
  }

  /**
   * One batch, one transaction. A batch that fails for a reason other than the domain rules
   * (a constraint the database enforces, a lost connection) is split and each command run
   * alone, so one bad command cannot fail the others. Running again is safe even if the
   * failure hid a successful COMMIT: the commands' ids make them replay, not repeat.
   */
  private async runBatch(commands: readonly ValidatedCommand[]): Promise<Array<PromiseSettledResult<CommandOutcome>>> {
    try {
      const started = performance.now();
      const outcomes = await this.appendWithRetry(commands);
      const appended = outcomes.filter((o) => o.ok && !o.replayed).length;
      this.onBatch?.({ size: commands.length, appended, durationMs: performance.now() - started, recorded: recordedOf(outcomes) });
      this.announceExpiries(outcomes);
      return outcomes.map((value) => ({ status: 'fulfilled', value }));
    } catch (error) {
      if (commands.length === 1) return [{ status: 'rejected', reason: error }];
      const results: Array<PromiseSettledResult<CommandOutcome>> = [];
      for (const command of commands) {
        try {
          const started = performance.now();
          const [value] = await this.appendWithRetry([command]);
          if (value)
            this.onBatch?.({ size: 1, appended: value.ok && !value.replayed ? 1 : 0, durationMs: performance.now() - started, recorded: recordedOf([value]) });
          if (value) this.announceExpiries([value]);
          results.push(value ? { status: 'fulfilled', value } : { status: 'rejected', reason: new Error('no outcome') });
        } catch (reason) {
          results.push({ status: 'rejected', reason });
        }
      }
      return results;
    }
  }

  /** A serialization failure or deadlock is retried at once: the next attempt reads afresh. */
  private appendWithRetry(commands: readonly ValidatedCommand[]): Promise<CommandOutcome[]> {
    // The batch belongs to no one caller's trace: each entry's event carries its own (toOutbox).
    return retrying({ maxAttempts: this.maxRetries + 1, retryOn: isRetryable }, () => context.with(ROOT_CONTEXT, () => appendBatch(this.append, commands)));
  }
}

function recordedOf(outcomes: readonly CommandOutcome[]): BatchStats['recorded'] {
  return outcomes.flatMap((o) => (o.ok ? [{ kind: o.entry.kind, replayed: o.replayed }] : []));
}
