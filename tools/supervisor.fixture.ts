/**
 * A stand-in for `npm start` in tools/supervisor.int-spec.ts and tools/e2e/signals.e2e-spec.ts:
 * the supervisor and its signal handling as tools/start.ts wires them, over two idle children
 * (tools/supervisor-child.fixture.ts, which watch their supervisor as the services do) or, with
 * FIXTURE_SERVICE_MAIN=<a built service's main.js>, over that one service (named `service`).
 * Prints `pids <json>` once they are spawned; their output comes on stderr as
 * `[supervisor] <name>| <line>`. With FIXTURE_MARKERS=<dir>, each idle child writes `<dir>/<name>`
 * when SIGTERM stops it.
 */
import { join, resolve } from 'node:path';
import type { SupervisedService } from './supervisor';
import { stopOnSignals, Supervisor } from './supervisor';

const ROOT = resolve(__dirname, '..');
const CHILD = resolve(__dirname, 'supervisor-child.fixture.ts');
const { FIXTURE_MARKERS: markers, FIXTURE_SERVICE_MAIN: serviceMain } = process.env;
const log = (line: string): void => void process.stderr.write(`[supervisor] ${line}\n`);
const supervisor = new Supervisor({ log, output: (name, line) => log(`${name}| ${line}`), stopTimeoutMs: 5_000 });
stopOnSignals(supervisor, log);
const children: SupervisedService[] = serviceMain
  ? [{ name: 'service', command: process.execPath, args: [serviceMain], cwd: ROOT, env: process.env }]
  : ['first', 'second'].map((name) => ({
      name,
      command: process.execPath,
      args: ['--import', 'tsx', CHILD],
      // tsx resolves `@pay/*` through the repository's tsconfig.json, found from the working directory.
      cwd: ROOT,
      env: { ...process.env, ...(markers ? { STOPPED_MARKER: join(markers, name) } : {}) },
    }));
supervisor.start(children);
const pids = children.map(({ name }) => supervisor.processOf(name)?.pid);
process.stdout.write(`pids ${JSON.stringify(pids)}\n`);
