/**
 * What the local Kafka broker and the embedded PostgreSQL have in common: a detached server
 * process known by its pid, a start lock so two scripts never start it at once, and the tail of
 * its log for error messages.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // Alive, someone else's.
  }
}

/** How to recognise a server's process, so that a reused pid is neither trusted nor signalled. */
export interface ProcessIdentity {
  /** From /proc/<pid>/cmdline: the arguments, each ended by a NUL. */
  cmdline(cmdline: string): boolean;
  /** From `ps -o stat=,command=`, on systems without /proc (macOS). */
  ps(line: string): boolean;
}

/** Alive, not a zombie, and the process `identity` describes. */
export function isLiveProcess(pid: number, identity: ProcessIdentity): boolean {
  if (!isAlive(pid)) return false;
  if (!existsSync(`/proc/${pid}`)) return psSays(pid, identity);
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.charAt(0);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return state !== 'Z' && identity.cmdline(cmdline);
  } catch {
    return false; // Exited between the checks.
  }
}

function psSays(pid: number, identity: ProcessIdentity): boolean {
  try {
    const out = execFileSync('ps', ['-o', 'stat=,command=', '-p', String(pid)], { encoding: 'utf8' });
    return !out.trimStart().startsWith('Z') && identity.ps(out);
  } catch {
    return false;
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** True once `isRunning` says no, false if it still says yes after `timeoutMs`. */
export async function waitForExit(pid: number, isRunning: (pid: number) => boolean, timeoutMs: number, pollMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true;
    await sleep(pollMs);
  }
  return !isRunning(pid);
}

export interface StartLock {
  /** The lock file; its folder is created when missing. */
  file: string;
  /** What is being started, for the error message (e.g. "Kafka"). */
  what: string;
  timeoutMs: number;
  pollMs: number;
}

/**
 * Two scripts starting a server at once (nx runs targets in parallel) must not both start it.
 * The lock file holds its owner's pid, so a crashed owner's lock is recognised as stale;
 * link() creates it with its content in one step, so it is never seen empty. Callers within one
 * process (the test set-up starting a broker per worker) take turns: each links its own file.
 */
let lockCalls = 0;

export async function withStartLock<T>(lock: StartLock, action: () => Promise<T>): Promise<T> {
  await mkdir(dirname(lock.file), { recursive: true });
  const mine = `${lock.file}.${process.pid}.${(lockCalls += 1)}`;
  await writeFile(mine, `${process.pid}\n`);
  const deadline = Date.now() + lock.timeoutMs;
  try {
    while (!(await tryLink(mine, lock.file))) {
      const owner = Number((await readFile(lock.file, 'utf8').catch(() => '')).trim());
      if (!isAlive(owner)) {
        await rm(lock.file, { force: true });
      } else if (Date.now() > deadline) {
        throw new Error(`Gave up waiting for process ${owner} to finish starting ${lock.what} (lock ${lock.file}).`);
      } else {
        await sleep(lock.pollMs);
      }
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await action();
  } finally {
    await rm(lock.file, { force: true });
  }
}

async function tryLink(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Whether something accepts connections on host:port (within a second). */
export function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => finish(true));
    socket.once('timeout', () => finish(false));
    socket.once('error', () => finish(false));
    function finish(listening: boolean): void {
      socket.destroy();
      done(listening);
    }
  });
}

/** The last `lines` lines of a server's log, introduced for an error message. */
export async function logTail(path: string, lines: number): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
  return `Last ${lines} lines of ${path}:\n${tail}`;
}

/** What a failed execFile said: its stdout, stderr and message. */
export function processOutput(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { stdout, stderr, message } = error as { stdout?: unknown; stderr?: unknown; message?: unknown };
    return [stdout, stderr, message].filter((part) => typeof part === 'string' && part.trim() !== '').join('\n');
  }
  return String(error);
}
