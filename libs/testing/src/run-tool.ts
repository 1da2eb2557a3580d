import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

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
