/**
 * Where the browser tier finds Chromium: Debian's `chromium` package (no browser download;
 * playwright-core drives it through `executablePath`). `CHROMIUM_PATH` overrides.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const CHROMIUM_INSTALL_COMMAND = 'sudo apt-get install -y chromium';

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CHROMIUM_PATH) return existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Says once, on the test output, why the tier is skipped and how to run it. */
export function reportSkipped(tier: string): void {
  process.stderr.write(`[browser tests] ${tier} skipped: no Chromium found (PATH or CHROMIUM_PATH). Install it with: ${CHROMIUM_INSTALL_COMMAND}\n`);
}
