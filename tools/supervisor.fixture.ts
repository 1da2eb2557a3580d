/**
 * A stand-in for `npm start` in tools/supervisor.int-spec.ts: the supervisor and its signal
 * handling as tools/start.ts wires them, over two idle children (tools/supervisor-child.fixture.ts,
 * which watch their supervisor as the services do) instead of the services. Prints `pids <json>`
 * once both are spawned; their output comes on stderr as `[supervisor] <name>| <line>`. With
 * FIXTURE_MARKERS=<dir>, each child writes `<dir>/<name>` when SIGTERM stops it.
 */
import { join, resolve } from 'node:path';
import { stopOnSignals, Supervisor } from './supervisor';

const ROOT = resolve(__dirname, '..');
const CHILD = resolve(__dirname, 'supervisor-child.fixture.ts');
const markers = process.env.FIXTURE_MARKERS;
const log = (line: string): void => void process.stderr.write(`[supervisor] ${line}\n`);
const supervisor = new Supervisor({ log, output: (name, line) => log(`${name}| ${line}`), stopTimeoutMs: 5_000 });
stopOnSignals(supervisor, log);
supervisor.start(
  ['first', 'second'].map((name) => ({
    name,
    command: process.execPath,
    args: ['--import', 'tsx', CHILD],
    // tsx resolves `@pay/*` through the repository's tsconfig.json, found from the working directory.
    cwd: ROOT,
    env: { ...process.env, ...(markers ? { STOPPED_MARKER: join(markers, name) } : {}) },
  })),
);
const pids = ['first', 'second'].map((name) => supervisor.processOf(name)?.pid);
process.stdout.write(`pids ${JSON.stringify(pids)}\n`);
