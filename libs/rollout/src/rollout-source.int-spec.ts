import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@pay/observability';
import { isTrue, waitFor } from '@pay/testing';
import { RolloutSource } from './rollout-source';

/** A file change reaches the policy within milliseconds; probe often. */
const FILE_EVENT = { what: 'the rollout to be reloaded', timeoutMs: 5_000, intervalMs: 25 };

describe('RolloutSource (real files, fs.watch and SIGHUP)', () => {
  let dir: string;
  let path: string;
  const lines: string[] = [];
  const logger = createLogger('rollout-test', 'info', new Writable({ write: (chunk: Buffer, _e, done) => void (lines.push(chunk.toString()), done()) }));
  const file = (countries: object[]): string => JSON.stringify({ countries });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollout-'));
    path = join(dir, 'rollout.json');
    await writeFile(path, file([{ country: 'DE', apps: ['facebook'] }]));
    lines.length = 0;
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start on a missing or invalid file, naming the variable', async () => {
    await expect(RolloutSource.open({ path: join(dir, 'missing.json'), logger })).rejects.toThrow(/ROLLOUT_CONFIG_PATH=.*missing\.json/);
    await writeFile(path, '{"countries": [{"country": "DE", "apps": ["myspace"]}]}');
    await expect(RolloutSource.open({ path, logger })).rejects.toThrow(/each app must be one of/);
  });

  it('reloads on a change in place and on a replaced file, without restart', async () => {
    const source = await RolloutSource.open({ path, logger, debounceMs: 20 });
    try {
      expect(source.policy.isLive('DE', 'messenger')).toBe(false);
      await writeFile(path, file([{ country: 'DE', apps: ['facebook', 'messenger'] }]));
      await waitFor(() => source.policy.isLive('DE', 'messenger'), isTrue, FILE_EVENT);

      // Atomic replace, as editors and Kubernetes config maps do it.
      await writeFile(join(dir, 'next.json'), file([{ country: 'FR', apps: ['whatsapp'] }]));
      await rename(join(dir, 'next.json'), path);
      await waitFor(() => source.policy.isLive('FR', 'whatsapp'), isTrue, FILE_EVENT);
      expect(source.policy.isLive('DE')).toBe(false);
    } finally {
      source.close();
    }
  });

  it('reloads when a Kubernetes ConfigMap volume swaps its ..data symlink', async () => {
    const volume = join(dir, 'volume');
    await mkdir(join(volume, '..v1'), { recursive: true });
    await writeFile(join(volume, '..v1', 'rollout.json'), file([{ country: 'DE', apps: ['facebook'] }]));
    await symlink('..v1', join(volume, '..data'));
    await symlink('..data/rollout.json', join(volume, 'rollout.json'));
    const source = await RolloutSource.open({ path: join(volume, 'rollout.json'), logger, debounceMs: 20 });
    try {
      await mkdir(join(volume, '..v2'));
      await writeFile(join(volume, '..v2', 'rollout.json'), file([{ country: 'GB', apps: ['messenger'] }]));
      await symlink('..v2', join(volume, '..data_tmp'));
      await rename(join(volume, '..data_tmp'), join(volume, '..data'));
      await waitFor(() => source.policy.isLive('GB', 'messenger'), isTrue, FILE_EVENT);
    } finally {
      source.close();
    }
  });

  it('keeps the live rollout and logs an error when the new file is invalid', async () => {
    const source = await RolloutSource.open({ path, logger, debounceMs: 20 });
    try {
      const before = source.current.digest;
      await writeFile(path, '{"countries": [{"country": "DE", "apps": ["facebook"]}');
      await waitFor(() => lines.some((line) => line.includes('rollout reload refused')), isTrue, FILE_EVENT);
      expect(source.current.digest).toBe(before);
      expect(source.policy.isLive('DE', 'facebook')).toBe(true);
      const result = await source.reload();
      expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/not valid JSON/) });
    } finally {
      source.close();
    }
  });

  it('reloads on SIGHUP, and stops listening when closed', async () => {
    const source = await RolloutSource.open({ path, logger, watch: true, debounceMs: 60_000 });
    try {
      await writeFile(path, file([{ country: 'US', apps: ['instagram'] }]));
      process.emit('SIGHUP', 'SIGHUP');
      await waitFor(() => source.policy.isLive('US', 'instagram'), isTrue, FILE_EVENT);
      expect(lines.join('')).toMatch(/"trigger":"SIGHUP"/);
    } finally {
      source.close();
    }
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });
});
