import type { ParseArgsOptionsConfig } from 'node:util';
import { parseArgs } from 'node:util';
import type { WholeNumberRule } from '@pay/config';
import { parseWholeNumber } from '@pay/config';

/** Bad flags or values: the tool prints the message (with its usage line) and exits 2. */
export class UsageError extends Error {}

/**
 * The tools' flags, through `node:util` `parseArgs` (strict: an unknown flag, a missing value or a
 * stray argument is refused); the error ends with the tool's usage line.
 */
export function parseCommandLine<const O extends ParseArgsOptionsConfig>(argv: readonly string[], options: O, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
}

/** A flag's whole-number value (`--batch 500` or `--batch=500`), within bounds; unset is `fallback`. */
export function wholeNumberFlag(name: string, raw: string | undefined, rule: WholeNumberRule & { fallback: number }, usage: string): number {
  try {
    return parseWholeNumber(`--${name}`, raw, rule);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
}
