import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from './wait-for';

const ROOT = resolve(__dirname, '../../..');

export interface ToolRun {
  /** The exit code (-1 when the process ended by a signal). */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a tool of the repository (`script`, e.g. `tools/migrate.ts`) with tsx as its own process,
 * from the repository's root, with PATH and `env` and nothing else, and captures its output.
 */
export function runTool(script: string, env: Record<string, string>, args: string[] = []): Promise<ToolRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(ROOT, 'node_modules/tsx/dist/cli.mjs'), script, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

/** A test's fixture running as a process of its own (startFixtureProcess). */
export interface FixtureProcess {
  readonly child: ChildProcess;
  /** Its stdout, line by line, as it comes. */
  readonly lines: string[];
  /** Its stderr so far. */
  errors(): string;
  /** Writes a line to its stdin. */
  send(line: string): void;
  /** Resolves once it has printed `ready`; throws with its stderr if it exits first or takes longer than `timeoutMs`. */
  loaded(what: string, timeoutMs: number): Promise<void>;
}

/**
 * Starts a TypeScript fixture (`file`, run with tsx from the repository's root) with the test's
 * environment and `env`, its stdio piped: the caller keeps it (to kill it after the test) before
 * awaiting `loaded`.
 */
export function startFixtureProcess(file: string, env: Record<string, string>): FixtureProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    lines.push(...complete);
  });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  return {
    child,
    lines,
    errors: () => errors,
    send: (line) => void child.stdin?.write(`${line}\n`),
    loaded: async (what, timeoutMs) => {
      await waitFor(() => lines.includes('ready') || child.exitCode !== null, Boolean, { what, timeoutMs, intervalMs: 50 });
      if (child.exitCode !== null) throw new Error(`${what}: the process exited: ${errors}`);
    },
  };
}
