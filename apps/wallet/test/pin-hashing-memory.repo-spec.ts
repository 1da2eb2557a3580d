/**
 * The wallet's RSS under PIN hashing (issue 12 goal 4): each argon2id hash takes a 19 MiB block
 * from malloc on one of libuv's threads. With glibc's dynamic thresholds the first freed block
 * raises them, and every thread that ever hashed keeps its 19 MiB (four threads: 76 MiB). The
 * deployment's GLIBC_TUNABLES fixes the thresholds so the block goes back to the system. This runs
 * the hasher's parameters in a Node process with the deployment's value, and without it (to show
 * that the measure sees the retention).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ARGON2_PIN_OPTIONS } from '../src/ports/pin-hasher';

const ROOT = resolve(__dirname, '../../..');
const MIB = 2 ** 20;
const BLOCK_MIB = ARGON2_PIN_OPTIONS.memoryCost / 1024;

/** The wallet container's literal env of the base deployment (the overlays do not change it). */
function walletDeploymentEnv(): Record<string, string> {
  const manifest = parseYaml(readFileSync(resolve(ROOT, 'deploy/k8s/base/wallet/deployment.yaml'), 'utf8')) as {
    spec: { template: { spec: { containers: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> } } };
  };
  const env = manifest.spec.template.spec.containers.find((c) => c.name === 'wallet')?.env ?? [];
  return Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}

/** 24 hashes, 8 at a time (libuv's 4 threads all hash), in a fresh process: how much RSS they leave behind, in MiB. */
function rssLeftByHashes(env: Record<string, string>): number {
  const script = `
    const argon2 = require('argon2');
    const options = JSON.parse(process.argv[1]);
    (async () => {
      const before = process.memoryUsage().rss;
      for (let round = 0; round < 3; round += 1)
        await Promise.all(Array.from({ length: 8 }, (_, i) => argon2.hash('73026' + i, options)));
      process.stdout.write(String(process.memoryUsage().rss - before));
    })();
  `;
  const run = spawnSync(process.execPath, ['-e', script, JSON.stringify(ARGON2_PIN_OPTIONS)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`the hashing process failed: ${run.stderr}`);
  return Number(run.stdout) / MIB;
}

describe("the wallet's PIN hashing memory", () => {
  const env = walletDeploymentEnv();

  it('is given back to the system with the deployment’s GLIBC_TUNABLES', () => {
    expect(env.GLIBC_TUNABLES).toBeDefined();
    expect(rssLeftByHashes({ GLIBC_TUNABLES: env.GLIBC_TUNABLES })).toBeLessThan(BLOCK_MIB / 2);
  });

  it('stays with each hashing thread without it (what the setting prevents)', () => {
    expect(rssLeftByHashes({})).toBeGreaterThan(2 * BLOCK_MIB);
  });

  it('is set the same way for the wallet in docker-compose.yml', () => {
    const compose = parseYaml(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string> }>;
    };
    expect(compose.services.wallet.environment?.GLIBC_TUNABLES).toBe(env.GLIBC_TUNABLES);
    // The shared environment is kept: the wallet's own map extends it.
    expect(compose.services.wallet.environment?.DATABASE_URL).toBe(compose.services['payment-orchestration'].environment?.DATABASE_URL);
  });
});
