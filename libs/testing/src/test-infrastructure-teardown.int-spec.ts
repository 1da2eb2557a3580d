/**
 * `npm test` leaves nothing running that it started: the tiers' global teardown stops the run's own
 * broker and removes its folder. Proved on a run of its own (with-test-infra.ts runs the same set-up
 * and teardown around one command), with none of this run's Kafka variables (so it starts a broker) and its TEST_DATABASE_URL alone.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '../../..');
const REPORT = 'process.stdout.write(JSON.stringify({ pid: process.env.TEST_KAFKA_PID, home: process.env.TEST_KAFKA_HOME }))';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it("stops the run's own broker and removes its folder once the run ends", async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(KAFKA_|TEST_KAFKA_|DATABASE_URL$)/.test(name)));
  const { stdout } = await promisify(execFile)(
    resolve(ROOT, 'node_modules/.bin/tsx'),
    [resolve(ROOT, 'libs/testing/src/with-test-infra.ts'), process.execPath, '-e', REPORT],
    { cwd: ROOT, env: { ...env, TEST_KAFKA_SASL: '0' }, timeout: 240_000 },
  );
  const broker = JSON.parse(stdout) as { pid?: string; home?: string };
  expect(Number(broker.pid)).toBeGreaterThan(0);
  expect(broker.home).toContain('kafka-test');
  expect(isRunning(Number(broker.pid))).toBe(false);
  expect(existsSync(broker.home as string)).toBe(false);
}, 300_000);
