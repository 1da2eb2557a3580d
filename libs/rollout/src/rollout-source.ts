import { createHash } from 'node:crypto';
import type { FSWatcher } from 'node:fs';
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from '@pay/observability';
import { parseRolloutFile } from './rollout-file';
import { RolloutPolicy } from './rollout-policy';

export interface RolloutSourceOptions {
  /** The rollout file; relative paths are resolved from the working directory. */
  path: string;
  logger: Logger;
  /** Reload when the file changes and on SIGHUP (default true). */
  watch?: boolean;
  /** Quiet time after a change before reading, so a half-written file is not read (ms). */
  debounceMs?: number;
}

export interface RolloutSnapshot {
  policy: RolloutPolicy;
  /** SHA-256 of the file's bytes: which version is live, for logs and the API. */
  digest: string;
  loadedAt: Date;
}

export type ReloadResult = { ok: true; changed: boolean; snapshot: RolloutSnapshot } | { ok: false; error: string; snapshot: RolloutSnapshot };

/**
 * The live rollout, read at start-up (a bad file stops the service) and reloaded without a
 * restart when the file changes or the process gets SIGHUP. A bad new file is refused with an
 * error in the log and the previous rollout stays live: a typo must not switch Pay off.
 */
export class RolloutSource {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private reloading: Promise<ReloadResult> | undefined;
  private readonly onHangup = (): void => void this.reload('SIGHUP');

  private constructor(
    private readonly path: string,
    private readonly options: RolloutSourceOptions,
    private snapshot: RolloutSnapshot,
  ) {}

  static async open(options: RolloutSourceOptions): Promise<RolloutSource> {
    const path = resolve(options.path);
    let snapshot: RolloutSnapshot;
    try {
      snapshot = await read(path);
    } catch (error) {
      throw new Error(`cannot load the rollout from ROLLOUT_CONFIG_PATH=${path}: ${(error as Error).message}`, { cause: error });
    }
    const source = new RolloutSource(path, options, snapshot);
    options.logger.info({ rollout: source.describe() }, 'rollout loaded');
    if (options.watch ?? true) source.startWatching();
    return source;
  }

  get policy(): RolloutPolicy {
    return this.snapshot.policy;
  }

  get current(): RolloutSnapshot {
    return this.snapshot;
  }

  describe(): { path: string; digest: string; loadedAt: string; liveCountries: string[] } {
    return {
      path: this.path,
      digest: this.snapshot.digest,
      loadedAt: this.snapshot.loadedAt.toISOString(),
      liveCountries: this.snapshot.policy.liveCountries(),
    };
  }

  /** Reads the file again; reloads never overlap, and a failed one keeps the live rollout. */
  async reload(trigger = 'request'): Promise<ReloadResult> {
    const previous = this.reloading ?? Promise.resolve(undefined);
    const next = previous.then(() => this.readAndSwap(trigger));
    this.reloading = next;
    try {
      return await next;
    } finally {
      if (this.reloading === next) this.reloading = undefined;
    }
  }

  close(): void {
    process.removeListener('SIGHUP', this.onHangup);
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.timer);
  }

  private async readAndSwap(trigger: string): Promise<ReloadResult> {
    const { logger } = this.options;
    try {
      const snapshot = await read(this.path);
      const changed = snapshot.digest !== this.snapshot.digest;
      if (changed) {
        this.snapshot = snapshot;
        logger.info({ rollout: this.describe(), trigger }, 'rollout reloaded');
      }
      return { ok: true, changed, snapshot: this.snapshot };
    } catch (error) {
      const message = (error as Error).message;
      logger.error({ trigger, path: this.path, reason: message, live: this.snapshot.digest }, 'rollout reload refused; the previous rollout stays live');
      return { ok: false, error: message, snapshot: this.snapshot };
    }
  }

  private startWatching(): void {
    process.on('SIGHUP', this.onHangup);
    // Watch the directory, not the file: editors replace the file (a rename), after which a
    // watch on the old inode hears nothing; a Kubernetes ConfigMap volume swaps its `..data`
    // symlink, so the event names that entry, not the file. Any change in the directory
    // triggers a read; an unchanged digest changes nothing.
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.reload('file change'), this.options.debounceMs ?? 100);
      });
      this.watcher.on('error', (error) => this.options.logger.warn({ err: error }, 'rollout file watch failed; SIGHUP still reloads'));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'cannot watch the rollout file; SIGHUP still reloads');
    }
  }
}

async function read(path: string): Promise<RolloutSnapshot> {
  const bytes = await readFile(path);
  const countries = parseRolloutFile(bytes.toString('utf8'));
  return { policy: new RolloutPolicy(countries), digest: createHash('sha256').update(bytes).digest('hex'), loadedAt: new Date() };
}
