/**
 * A stand-in for `npm start` in tools/supervisor.int-spec.ts: the supervisor and its signal
 * handling as tools/start.ts wires them, over two idle `node -e` children instead of the services.
 * Prints `pids <json>` once both run.
 */
import { stopOnSignals, Supervisor } from './supervisor';

const IDLE = 'setInterval(() => {}, 1000); process.on("SIGTERM", () => process.exit(0));';
const log = (line: string): void => void process.stderr.write(`[supervisor] ${line}\n`);
const supervisor = new Supervisor({ log, output: (name, line) => log(`${name}| ${line}`), stopTimeoutMs: 5_000 });
stopOnSignals(supervisor, log);
supervisor.start(['first', 'second'].map((name) => ({ name, command: process.execPath, args: ['-e', IDLE] })));
const pids = ['first', 'second'].map((name) => supervisor.processOf(name)?.pid);
process.stdout.write(`pids ${JSON.stringify(pids)}\n`);
