import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';

/** The repository's root, for the repo tier's tests that read the sources themselves. */
export const ROOT = resolve(__dirname, '../..');

/** The top-level folders that hold the project's code. */
export const TOP_LEVEL = ['apps', 'libs', 'simulators', 'tools', 'bench', 'deploy'];

const SKIPPED = new Set(['node_modules', 'dist', '.cache']);

/** Every file under `directory` (relative to the root), as root-relative paths; installed, built and cached files left out. */
export function filesUnder(directory: string): string[] {
  return readdirSync(resolve(ROOT, directory), { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const path = `${directory}/${entry.name}`;
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}
