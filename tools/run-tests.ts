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
import { parseCommandLine, UsageError } from './command-line';

export interface TestStep {
  /** The npm script. */
  script: string;
  /** A step of the same run this one needs: when it failed, this one is not run and counts as failed. */
  needs?: string;
  /** The Jest reports it writes (reports/): `.ci/run` counts tests from them. */
  reports: string[];
}

export const TEST_STEPS: readonly TestStep[] = [
  { script: 'lint', reports: [] },
  { script: 'typecheck', reports: [] },
  { script: 'test:unit', reports: ['reports/jest-unit.json'] },
  { script: 'test:repo', reports: ['reports/jest-repo.json'] },
  { script: 'build', reports: [] },
  { script: 'test:int:built', needs: 'build', reports: ['reports/jest-integration.json'] },
  { script: 'test:e2e:built', needs: 'build', reports: ['reports/jest-e2e.json'] },
  { script: 'test:browser:built', needs: 'build', reports: ['reports/jest-browser.json'] },
];

/** Where the run's outcome per step is written, for `.ci/run`. */
export const STEPS_REPORT = 'reports/test-steps.json';

export interface StepOutcome {
  script: string;
  passed: boolean;
  /** Why it failed: its exit, or why it was not run. */
  reason?: string;
  reports: string[];
}

const USAGE = `usage: npm test -- [--steps <step,step,...>]  (steps: ${TEST_STEPS.map((step) => step.script).join(', ')})`;

/** The steps `--steps` names (all without it), in the usual order; an unknown name is refused. */
export function selectSteps(argv: readonly string[], steps: readonly TestStep[] = TEST_STEPS): TestStep[] {
  const named = parseCommandLine(argv, { steps: { type: 'string' } }, USAGE).steps;
  if (named === undefined) return [...steps];
  const wanted = named
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = wanted.filter((name) => !steps.some((step) => step.script === name));
  if (unknown.length > 0 || wanted.length === 0)
    throw new UsageError(`--steps: ${unknown.length > 0 ? `no step ${unknown.join(', ')}` : 'names no step'}\n${USAGE}`);
  return steps.filter((step) => wanted.includes(step.script));
}

/**
 * Runs every step in order with `run` (its exit code: 0 passed) and returns each one's outcome. A
 * step whose `needs` failed in this run is not run; once `stopped()` says so (Ctrl-C), no further
 * step starts.
 */
export async function runSteps(
  steps: readonly TestStep[],
  run: (script: string) => Promise<number>,
  stopped: () => boolean = () => false,
): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  for (const step of steps) {
    const needed = step.needs === undefined ? undefined : outcomes.find((outcome) => outcome.script === step.needs);
    if (stopped()) outcomes.push({ script: step.script, passed: false, reason: 'not run: interrupted', reports: step.reports });
    else if (needed && !needed.passed) outcomes.push({ script: step.script, passed: false, reason: `not run: ${needed.script} failed`, reports: step.reports });
    else {
      const code = await run(step.script);
      outcomes.push({ script: step.script, passed: code === 0, ...(code === 0 ? {} : { reason: `exit ${code}` }), reports: step.reports });
    }
  }
  return outcomes;
}

/** The closing lines: each step's outcome, then which failed. */
export function summaryOf(outcomes: readonly StepOutcome[]): string[] {
  const failed = outcomes.filter((outcome) => !outcome.passed);
  return [
    '== npm test: steps',
    ...outcomes.map((outcome) => `  ${outcome.passed ? 'passed' : 'FAILED'}  ${outcome.script}${outcome.reason ? ` (${outcome.reason})` : ''}`),
    failed.length === 0
      ? `npm test: all ${outcomes.length} steps passed`
      : `npm test: ${failed.length} of ${outcomes.length} steps failed: ${failed.map((outcome) => outcome.script).join(', ')}`,
  ];
}

/** `npm run <script>` with this terminal; its exit code (1 when a signal ended it). */
function npmRun(script: string, running: { child?: ReturnType<typeof spawn> }): Promise<number> {
  process.stdout.write(`\n== npm run ${script}\n`);
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', script], { stdio: 'inherit' });
    running.child = child;
    child.on('error', (error) => {
      process.stderr.write(`npm run ${script}: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<void> {
  const steps = selectSteps(process.argv.slice(2));
  // A report left by an earlier run must not be counted for a step that does not write one now.
  for (const report of [STEPS_REPORT, ...steps.flatMap((step) => step.reports)]) rmSync(report, { force: true });
  const running: { child?: ReturnType<typeof spawn> } = {};
  let interrupted = false;
  // Ctrl-C reaches the running step from the terminal itself; a SIGTERM (CI's timeout) is passed on. No further step starts.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      interrupted = true;
      if (signal === 'SIGTERM') running.child?.kill('SIGTERM');
    });
  }
  const outcomes = await runSteps(
    steps,
    (script) => npmRun(script, running),
    () => interrupted,
  );
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
