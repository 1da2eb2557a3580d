/**
 * `npm test`: lint, type-check, every test tier and the build the last three need, each as its npm
 * script, all of them even when one fails (so a lint error does not hide the tests' results, and
 * `.ci/run` counts every tier). Exits 1 when any step failed, after naming them.
 *
 *   npm test                                  every step
 *   npm test -- --steps lint,test:unit        only these, in the usual order
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseCommandLine, UsageError, wholeNumberFlag } from './command-line';

export interface TestStep {
  /** The npm script. */
  script: string;
  /** A step of the same run this one needs: when it failed, this one is not run and counts as failed. */
  needs?: string;
  /**
   * Steps of the same run that must have ended (passed or not) before this one starts. A step
   * whose steps before it have ended runs beside the one running, two at most (`--jobs`).
   */
  after?: readonly string[];
  /** The Jest reports it writes (reports/): `.ci/run` counts tests from them. */
  reports: string[];
}

/**
 * The checks that only read the sources (lint, type-check, the build, unit tests: one core each)
 * run two at a time. The repository checks wait for lint, type-check and the build: the
 * module-boundaries check writes probe files into the tree for a moment, which those would read.
 * The three tiers with brokers and services run alone, one after the other, as before: their
 * waits are timed for two cores of their own (the e2e tier's crash and outage tests).
 */
const CHECKS = ['lint', 'typecheck', 'build', 'test:unit', 'test:repo'];

export const TEST_STEPS: readonly TestStep[] = [
  { script: 'lint', reports: [] },
  { script: 'typecheck', reports: [] },
  { script: 'build', after: ['typecheck'], reports: [] },
  { script: 'test:unit', reports: ['reports/jest-unit.json'] },
  { script: 'test:repo', after: ['lint', 'typecheck', 'build'], reports: ['reports/jest-repo.json'] },
  { script: 'test:int:built', needs: 'build', after: CHECKS, reports: ['reports/jest-integration.json'] },
  { script: 'test:e2e:built', needs: 'build', after: [...CHECKS, 'test:int:built'], reports: ['reports/jest-e2e.json'] },
  { script: 'test:browser:built', needs: 'build', after: [...CHECKS, 'test:int:built', 'test:e2e:built'], reports: ['reports/jest-browser.json'] },
];

/** Where the run's outcome per step is written, for `.ci/run`. */
export const STEPS_REPORT = 'reports/test-steps.json';

export interface StepOutcome {
  script: string;
  passed: boolean;
  /** Why it failed: its exit, or why it was not run. */
  reason?: string;
  reports: string[];
  /** How long it ran, in whole seconds (absent when it was not run). */
  seconds?: number;
}

/** How many steps may run at once: the machine's two cores. */
export const DEFAULT_JOBS = 2;

const USAGE = `usage: npm test -- [--steps <step,step,...>] [--jobs <1-8>]  (steps: ${TEST_STEPS.map((step) => step.script).join(', ')})`;

export interface Selection {
  steps: TestStep[];
  jobs: number;
}

/** The steps `--steps` names (all without it), in the usual order, and `--jobs`; an unknown name is refused. */
export function selectSteps(argv: readonly string[], steps: readonly TestStep[] = TEST_STEPS): Selection {
  const flags = parseCommandLine(argv, { steps: { type: 'string' }, jobs: { type: 'string' } }, USAGE);
  const jobs = wholeNumberFlag('jobs', flags.jobs, { min: 1, max: 8, fallback: DEFAULT_JOBS }, USAGE);
  if (flags.steps === undefined) return { steps: [...steps], jobs };
  const wanted = flags.steps
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = wanted.filter((name) => !steps.some((step) => step.script === name));
  if (unknown.length > 0 || wanted.length === 0)
    throw new UsageError(`--steps: ${unknown.length > 0 ? `no step ${unknown.join(', ')}` : 'names no step'}\n${USAGE}`);
  return { steps: steps.filter((step) => wanted.includes(step.script)), jobs };
}

export interface RunOptions {
  /** Once it says so (Ctrl-C), no further step starts. */
  stopped?: () => boolean;
  /** How many steps may run at once (1: one after the other, in order). */
  jobs?: number;
  /** Milliseconds, for each step's duration. */
  now?: () => number;
}

/**
 * Runs every step with `run` (its exit code: 0 passed) and returns each one's outcome, in the
 * steps' order. A step starts, in order, once the steps it comes `after` (those of this run) have
 * ended and fewer than `jobs` are running; a step whose `needs` failed in this run is not run;
 * once `stopped()` says so, no further step starts.
 */
export async function runSteps(steps: readonly TestStep[], run: (script: string) => Promise<number>, options: RunOptions = {}): Promise<StepOutcome[]> {
  const { stopped = () => false, jobs = DEFAULT_JOBS, now = Date.now } = options;
  const selected = new Set(steps.map((step) => step.script));
  const outcomes = new Map<string, StepOutcome>();
  const running = new Map<string, Promise<void>>();
  const ended = (script: string): boolean => outcomes.has(script) && !running.has(script);
  const ready = (step: TestStep): boolean => (step.after ?? []).every((script) => !selected.has(script) || ended(script));
  for (;;) {
    for (const step of steps) {
      if (running.size >= jobs) break;
      if (outcomes.has(step.script) || !ready(step)) continue;
      const needed = step.needs === undefined ? undefined : outcomes.get(step.needs);
      if (stopped()) outcomes.set(step.script, { script: step.script, passed: false, reason: 'not run: interrupted', reports: step.reports });
      else if (step.needs !== undefined && selected.has(step.needs) && !ended(step.needs))
        continue; // what it needs is still running
      else if (needed && !needed.passed)
        outcomes.set(step.script, { script: step.script, passed: false, reason: `not run: ${needed.script} failed`, reports: step.reports });
      else {
        const started = now();
        const outcome: StepOutcome = { script: step.script, passed: false, reports: step.reports };
        outcomes.set(step.script, outcome);
        running.set(
          step.script,
          run(step.script).then((code) => {
            Object.assign(outcome, { passed: code === 0, ...(code === 0 ? {} : { reason: `exit ${code}` }), seconds: Math.round((now() - started) / 1000) });
            running.delete(step.script);
          }),
        );
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  return steps.map(
    (step) => outcomes.get(step.script) ?? { script: step.script, passed: false, reason: 'not run: a step it comes after never ended', reports: step.reports },
  );
}

/** The closing lines: each step's outcome and duration, then which failed. */
export function summaryOf(outcomes: readonly StepOutcome[]): string[] {
  const failed = outcomes.filter((outcome) => !outcome.passed);
  return [
    '== npm test: steps',
    ...outcomes.map(
      (outcome) =>
        `  ${outcome.passed ? 'passed' : 'FAILED'}  ${outcome.script}${outcome.reason ? ` (${outcome.reason})` : ''}${outcome.seconds === undefined ? '' : `  ${outcome.seconds} s`}`,
    ),
    failed.length === 0
      ? `npm test: all ${outcomes.length} steps passed`
      : `npm test: ${failed.length} of ${outcomes.length} steps failed: ${failed.map((outcome) => outcome.script).join(', ')}`,
  ];
}

/**
 * `npm run <script>`; its exit code (1 when a signal ended it). With one job it has this terminal;
 * with more, steps may run side by side, so each line it writes is prefixed with `[script] `.
 */
function npmRun(script: string, running: Set<ReturnType<typeof spawn>>, prefixed: boolean): Promise<number> {
  process.stdout.write(`\n== npm run ${script}\n`);
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', script], { stdio: prefixed ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    running.add(child);
    if (prefixed) {
      for (const [from, to] of [
        [child.stdout, process.stdout],
        [child.stderr, process.stderr],
      ] as const) {
        if (from) createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => to.write(`[${script}] ${line}\n`));
      }
    }
    child.on('error', (error) => {
      process.stderr.write(`npm run ${script}: ${error.message}\n`);
      running.delete(child);
      resolve(1);
    });
    child.on('close', (code) => {
      running.delete(child);
      process.stdout.write(`== npm run ${script}: ${code === 0 ? 'passed' : `exit ${code ?? 'by a signal'}`}\n`);
      resolve(code ?? 1);
    });
  });
}

async function main(): Promise<void> {
  const { steps, jobs } = selectSteps(process.argv.slice(2));
  // A report left by an earlier run must not be counted for a step that does not write one now.
  for (const report of [STEPS_REPORT, ...steps.flatMap((step) => step.reports)]) rmSync(report, { force: true });
  const running = new Set<ReturnType<typeof spawn>>();
  let interrupted = false;
  // Ctrl-C reaches the running steps from the terminal itself; a SIGTERM (CI's timeout) is passed on. No further step starts.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      interrupted = true;
      if (signal === 'SIGTERM') for (const child of running) child.kill('SIGTERM');
    });
  }
  const outcomes = await runSteps(steps, (script) => npmRun(script, running, jobs > 1), { stopped: () => interrupted, jobs });
  mkdirSync('reports', { recursive: true });
  writeFileSync(STEPS_REPORT, `${JSON.stringify(outcomes, null, 2)}\n`);
  process.stdout.write(`\n${summaryOf(outcomes).join('\n')}\n`);
  process.exitCode = outcomes.every((outcome) => outcome.passed) ? 0 : 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`npm test: ${(error as Error).message}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  });
}
