import { UsageError } from './command-line';
import type { TestStep } from './run-tests';
import { runSteps, selectSteps, summaryOf, TEST_STEPS } from './run-tests';

/** A runner that answers each script's exit code from `codes` (0 when unnamed) and records what it ran. */
function runner(codes: Record<string, number> = {}) {
  const ran: string[] = [];
  return { ran, run: async (script: string) => (ran.push(script), codes[script] ?? 0) };
}

const names = (steps: readonly TestStep[]): string[] => steps.map((step) => step.script);

describe('npm test (tools/run-tests.ts)', () => {
  it('runs every step after a failing one, and names the failures at the end', async () => {
    const { ran, run } = runner({ lint: 1, 'test:unit': 1 });
    const outcomes = await runSteps(TEST_STEPS, run);
    expect(ran).toEqual(names(TEST_STEPS));
    expect(outcomes.filter((outcome) => !outcome.passed).map((outcome) => outcome.script)).toEqual(['lint', 'test:unit']);
    expect(summaryOf(outcomes)).toEqual([
      '== npm test: steps',
      '  FAILED  lint (exit 1)',
      '  passed  typecheck',
      '  FAILED  test:unit (exit 1)',
      '  passed  test:repo',
      '  passed  build',
      '  passed  test:int:built',
      '  passed  test:e2e:built',
      '  passed  test:browser:built',
      'npm test: 2 of 8 steps failed: lint, test:unit',
    ]);
  });

  it('counts the tiers that run on the build as failed, without running them, when the build fails', async () => {
    const { ran, run } = runner({ build: 2 });
    const outcomes = await runSteps(TEST_STEPS, run);
    expect(ran).toEqual(['lint', 'typecheck', 'test:unit', 'test:repo', 'build']);
    expect(outcomes.slice(4)).toEqual([
      expect.objectContaining({ script: 'build', passed: false, reason: 'exit 2' }),
      expect.objectContaining({ script: 'test:int:built', passed: false, reason: 'not run: build failed' }),
      expect.objectContaining({ script: 'test:e2e:built', passed: false, reason: 'not run: build failed' }),
      expect.objectContaining({ script: 'test:browser:built', passed: false, reason: 'not run: build failed' }),
    ]);
    expect(summaryOf(outcomes).at(-1)).toBe('npm test: 4 of 8 steps failed: build, test:int:built, test:e2e:built, test:browser:built');
  });

  it('says all passed when they did', async () => {
    const outcomes = await runSteps(TEST_STEPS, runner().run);
    expect(outcomes.every((outcome) => outcome.passed)).toBe(true);
    expect(summaryOf(outcomes).at(-1)).toBe('npm test: all 8 steps passed');
  });

  it('starts no further step once interrupted', async () => {
    const { ran, run } = runner();
    const outcomes = await runSteps(TEST_STEPS, run, () => ran.length >= 2);
    expect(ran).toEqual(['lint', 'typecheck']);
    expect(outcomes.slice(2).every((outcome) => outcome.reason === 'not run: interrupted')).toBe(true);
  });

  it('keeps the Jest report of each tier, which .ci/run counts', () => {
    expect(TEST_STEPS.flatMap((step) => step.reports)).toEqual([
      'reports/jest-unit.json',
      'reports/jest-repo.json',
      'reports/jest-integration.json',
      'reports/jest-e2e.json',
      'reports/jest-browser.json',
    ]);
  });

  it('runs only the steps --steps names, in the usual order; a tier named without the build runs on the dist/ there is', async () => {
    expect(names(selectSteps([]))).toEqual(names(TEST_STEPS));
    const steps = selectSteps(['--steps', 'test:e2e:built, lint']);
    expect(names(steps)).toEqual(['lint', 'test:e2e:built']);
    const { ran, run } = runner();
    await runSteps(steps, run);
    expect(ran).toEqual(['lint', 'test:e2e:built']);
  });

  it('refuses an unknown step, an empty list and a stray flag, with the usage line', () => {
    expect(() => selectSteps(['--steps', 'lint,test:integration'])).toThrow(UsageError);
    expect(() => selectSteps(['--steps', 'lint,test:integration'])).toThrow(/no step test:integration\nusage: npm test -- \[--steps/);
    expect(() => selectSteps(['--steps', ','])).toThrow(/names no step/);
    expect(() => selectSteps(['--bail'])).toThrow(/usage: npm test/);
  });
});
