/**
 * `tsx libs/testing/src/with-test-infra.ts <command> [args...]`: runs a command with the test tiers'
 * PostgreSQL database and a Kafka broker of its own (as Jest's global set-up provides them:
 * TEST_DATABASE_URL, DATABASE_URL and KAFKA_BROKERS), then stops what it started. bench:e2e runs
 * through it, so that its traffic never reaches the broker `npm start` reads.
 */
import { spawn } from 'node:child_process';
import globalSetup from './global-setup';
import globalTeardown from './global-teardown';

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  if (!command) throw new Error('usage: tsx libs/testing/src/with-test-infra.ts <command> [args...]');
  await globalSetup();
  try {
    const child = spawn(command, args, { stdio: 'inherit', env: process.env });
    // Ctrl-C reaches the child through the terminal; wait for it, then clean up.
    const onSignal = (): void => undefined;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    return await new Promise<number>((done, fail) => {
      child.once('error', fail);
      child.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await globalTeardown();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`with-test-infra: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
