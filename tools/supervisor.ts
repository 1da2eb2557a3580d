/**
 * The process supervisor behind `npm start`: runs each service as a child process, restarts one
 * that exits unexpectedly (with a doubling delay, logged with its exit code or signal) while the
 * others keep running, gives up on a service that keeps failing quickly, and on stop sends every
 * child SIGTERM, waits for their graceful exit up to a deadline and then SIGKILLs what is left.
 * Each child gets an IPC channel that it watches: if the supervisor itself is killed outright
 * (SIGKILL, OOM), the channel closes and the children stop as on SIGTERM.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SupervisedService {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface SupervisorOptions {
  /** Lines of the supervisor itself. */
  readonly log: (line: string) => void;
  /** Each line a child writes (stdout and stderr), with the child's name. */
  readonly output: (name: string, line: string) => void;
  /** The delay before the first restart, doubling with each quick failure up to `restartMaxMs`. */
  readonly restartBaseMs?: number;
  readonly restartMaxMs?: number;
  /** A run that lasted this long was not a quick failure: the next failure starts the count afresh. */
  readonly stableAfterMs?: number;
  /** After this many quick failures in a row the supervisor gives up on the service (the others keep running). */
  readonly maxQuickFailures?: number;
  /** How long a stopped child may take to exit gracefully before it is SIGKILLed. */
  readonly stopTimeoutMs?: number;
}

/** One supervised service: its current process, and how often it failed quickly in a row. */
interface Slot {
  readonly service: SupervisedService;
  child?: ChildProcess;
  startedAt: number;
  quickFailures: number;
  restarts: number;
  gaveUp: boolean;
  restartTimer?: NodeJS.Timeout;
  /** Resolves when the current child has exited. */
  exited?: Promise<void>;
}

const describeExit = (code: number | null, signal: NodeJS.Signals | null): string => (signal ? `signal ${signal}` : `code ${code}`);

export class Supervisor {
  private readonly slots = new Map<string, Slot>();
  private stopping?: Promise<number>;
  private readonly restartBaseMs: number;
  private readonly restartMaxMs: number;
  private readonly stableAfterMs: number;
  private readonly maxQuickFailures: number;
  private readonly stopTimeoutMs: number;

  constructor(private readonly options: SupervisorOptions) {
    this.restartBaseMs = options.restartBaseMs ?? 1_000;
    this.restartMaxMs = options.restartMaxMs ?? 15_000;
    this.stableAfterMs = options.stableAfterMs ?? 30_000;
    this.maxQuickFailures = options.maxQuickFailures ?? 5;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 20_000;
  }

  start(services: readonly SupervisedService[]): void {
    for (const service of services) {
      const slot: Slot = { service, startedAt: 0, quickFailures: 0, restarts: 0, gaveUp: false };
      this.slots.set(service.name, slot);
      this.spawn(slot);
    }
  }

  /** The running process of a service (undefined between a crash and its restart, or after giving up). */
  processOf(name: string): ChildProcess | undefined {
    const child = this.slots.get(name)?.child;
    return child && child.exitCode === null && child.signalCode === null ? child : undefined;
  }

  restartsOf(name: string): number {
    return this.slots.get(name)?.restarts ?? 0;
  }

  /** Services given up on after too many quick failures. */
  gaveUp(): string[] {
    return [...this.slots.values()].filter((slot) => slot.gaveUp).map((slot) => slot.service.name);
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /**
   * Stops every child: SIGTERM, then SIGKILL for any still running after `stopTimeoutMs`.
   * Resolves with the exit code `npm start` should end with: 0 when every service stopped
   * gracefully and none had been given up on, 1 otherwise. Called twice, returns the first stop.
   */
  stop(reason: string): Promise<number> {
    this.stopping ??= this.stopAll(reason);
    return this.stopping;
  }

  private async stopAll(reason: string): Promise<number> {
    this.options.log(`${reason}: stopping the services…`);
    let forced = 0;
    await Promise.all(
      [...this.slots.values()].map(async (slot) => {
        clearTimeout(slot.restartTimer);
        const child = slot.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'late'>((done) => (timer = setTimeout(() => done('late'), this.stopTimeoutMs)));
        const outcome = await Promise.race([slot.exited, deadline]);
        clearTimeout(timer);
        if (outcome === 'late') {
          forced += 1;
          this.options.log(`${slot.service.name} did not stop within ${this.stopTimeoutMs / 1000} s: SIGKILL`);
          child.kill('SIGKILL');
          await slot.exited;
        }
      }),
    );
    const gaveUp = this.gaveUp();
    this.options.log(
      `all services stopped${forced > 0 ? ` (${forced} killed after the deadline)` : ''}${gaveUp.length > 0 ? `; given up on earlier: ${gaveUp.join(', ')}` : ''}`,
    );
    return forced > 0 || gaveUp.length > 0 ? 1 : 0;
  }

  private spawn(slot: Slot): void {
    const { service } = slot;
    // The IPC channel is the child's lifeline: it closes when this process ends, SIGKILL included,
    // and the services stop on that (stopWhenSupervisorGone, @pay/platform). Nothing is sent on it.
    const child = spawn(service.command, [...service.args], { cwd: service.cwd, env: service.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    slot.child = child;
    slot.startedAt = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.options.output(service.name, line));
    }
    slot.exited = new Promise((done) => child.once('exit', () => done()));
    child.once('error', (error) => this.options.log(`${service.name} could not be started: ${error.message}`));
    child.once('exit', (code, signal) => this.exited(slot, code, signal));
  }

  private exited(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const { name } = slot.service;
    const ranMs = Date.now() - slot.startedAt;
    slot.quickFailures = ranMs >= this.stableAfterMs ? 1 : slot.quickFailures + 1;
    if (slot.quickFailures >= this.maxQuickFailures) {
      slot.gaveUp = true;
      this.options.log(
        `${name} exited (${describeExit(code, signal)}) after ${(ranMs / 1000).toFixed(1)} s: ${slot.quickFailures} failures in a row, each within ${this.stableAfterMs / 1000} s of starting; ` +
          'giving up on it (the other services keep running; fix it and start again)',
      );
      return;
    }
    const delayMs = Math.min(this.restartMaxMs, this.restartBaseMs * 2 ** (slot.quickFailures - 1));
    this.options.log(`${name} exited unexpectedly (${describeExit(code, signal)}) after ${(ranMs / 1000).toFixed(1)} s; restarting it in ${delayMs / 1000} s`);
    slot.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      slot.restarts += 1;
      this.options.log(`${name}: restart ${slot.restarts}`);
      this.spawn(slot);
    }, delayMs);
  }
}

/**
 * Calls `onOrphaned` once this process's parent has gone (it was re-parented: `npm start`'s npm
 * was killed without forwarding a signal), so a supervisor never leaves its children behind.
 */
export function watchParent(onOrphaned: () => void, intervalMs = 1_000): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * How `npm start` ends: SIGINT, SIGTERM or SIGHUP (to npm, which forwards the first two, to this
 * process or to the process group), or the parent gone, stops every service and exits this
 * process with the supervisor's code (1 also when `failed` says start-up failed).
 */
export function stopOnSignals(supervisor: Supervisor, log: (line: string) => void): (reason: string, failed?: boolean) => void {
  const stop = (reason: string, failed = false): void =>
    void supervisor.stop(reason).then((code) => {
      log('Kafka and PostgreSQL keep running (`npm run infra:down` stops them)');
      process.exit(failed ? 1 : code);
    });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  watchParent(() => stop('the parent process (npm) is gone'));
  return stop;
}
