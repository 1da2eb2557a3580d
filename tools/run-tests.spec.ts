import { UsageError } from './command-line';
import type { TestStep } from './run-tests';
import { runSteps, selectSteps, summaryOf, TEST_STEPS } from './run-tests';

/** A runner that answers each script's exit code from `codes` (0 when unnamed) and records what it ran. */
function runner(codes: Record<string, number> = {}) {
  const ran: string[] = [];
  return { ran, run: async (script: string) => (ran.push(script), codes[script] ?? 0) };
}

/**
 * A runner whose steps end only when the test says so: `started` lists what began, `running` what
 * has not ended yet, `end(script, code)` ends one and lets the scheduler go on.
 */
function heldRunner() {
  const started: string[] = [];
  const endings = new Map<string, (code: number) => void>();
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    started,
    running: () => [...endings.keys()],
    run: (script: string) =>
      new Promise<number>((resolve) => {
        started.push(script);
        endings.set(script, resolve);
      }),
    end: async (script: string, code = 0) => {
      const resolve = endings.get(script);
      if (!resolve) throw new Error(`${script} is not running`);
      endings.delete(script);
      resolve(code);
      await settle();
    },
    settle,
  };
}

const names = (steps: readonly TestStep[]): string[] => steps.map((step) => step.script);

describe('npm test (tools/run-tests.ts)', () => {
  it('runs every step after a failing one, and names the failures at the end', async () => {
    const { ran, run } = runner({ lint: 1, 'test:unit': 1 });
    let clock = 0;
    const outcomes = await runSteps(TEST_STEPS, run, { now: () => (clock += 1500) });
    expect(ran).toEqual(names(TEST_STEPS));
    expect(outcomes.filter((outcome) => !outcome.passed).map((outcome) => outcome.script)).toEqual(['lint', 'test:unit']);
    expect(summaryOf(outcomes.map((outcome) => ({ ...outcome, seconds: outcome.script === 'lint' ? 212 : undefined })))).toEqual([
      '== npm test: steps',
      '  FAILED  lint (exit 1)  212 s',
      '  passed  typecheck',
      '  passed  build',
      '  FAILED  test:unit (exit 1)',
      '  passed  test:repo',
      '  passed  test:int:built',
      '  passed  test:e2e:built',
      '  passed  test:browser:built',
      'npm test: 2 of 8 steps failed: lint, test:unit',
    ]);
    expect(outcomes.every((outcome) => Number.isInteger(outcome.seconds) && outcome.seconds! >= 1)).toBe(true);
  });

  it('counts the tiers that run on the build as failed, without running them, when the build fails', async () => {
    const { ran, run } = runner({ build: 2 });
    const outcomes = await runSteps(TEST_STEPS, run);
    expect(ran).toEqual(['lint', 'typecheck', 'build', 'test:unit', 'test:repo']);
    expect(outcomes.slice(5)).toEqual([
      expect.objectContaining({ script: 'test:int:built', passed: false, reason: 'not run: build failed' }),
      expect.objectContaining({ script: 'test:e2e:built', passed: false, reason: 'not run: build failed' }),
      expect.objectContaining({ script: 'test:browser:built', passed: false, reason: 'not run: build failed' }),
    ]);
    expect(outcomes[2]).toEqual(expect.objectContaining({ script: 'build', passed: false, reason: 'exit 2' }));
    expect(summaryOf(outcomes).at(-1)).toBe('npm test: 4 of 8 steps failed: build, test:int:built, test:e2e:built, test:browser:built');
  });

  it('runs the checks two at a time, the repository checks after lint, type-check and the build, and each tier alone after them all', async () => {
    const held = heldRunner();
    const done = runSteps(TEST_STEPS, held.run);
    await held.settle();
    expect(held.running()).toEqual(['lint', 'typecheck']);
    await held.end('typecheck');
    expect(held.running()).toEqual(['lint', 'build']);
    await held.end('build');
    expect(held.running()).toEqual(['lint', 'test:unit']); // the repository checks wait for lint
    await held.end('test:unit');
    expect(held.running()).toEqual(['lint']);
    await held.end('lint');
    expect(held.running()).toEqual(['test:repo']);
    await held.end('test:repo');
    expect(held.running()).toEqual(['test:int:built']);
    await held.end('test:int:built', 1);
    expect(held.running()).toEqual(['test:e2e:built']);
    await held.end('test:e2e:built');
    expect(held.running()).toEqual(['test:browser:built']);
    await held.end('test:browser:built');
    const outcomes = await done;
    expect(outcomes.map((outcome) => outcome.script)).toEqual(names(TEST_STEPS));
    expect(outcomes.filter((outcome) => !outcome.passed).map((outcome) => outcome.script)).toEqual(['test:int:built']);
  });

  it('starts the unit tests beside lint when type-check is still running, and a tier waits for the build it needs', async () => {
    const held = heldRunner();
    const done = runSteps(TEST_STEPS, held.run);
    await held.settle();
    await held.end('lint');
    expect(held.running()).toEqual(['typecheck', 'test:unit']);
    await held.end('test:unit');
    expect(held.running()).toEqual(['typecheck']);
    await held.end('typecheck');
    expect(held.running()).toEqual(['build']);
    await held.end('build');
    expect(held.running()).toEqual(['test:repo']);
    for (const script of ['test:repo', 'test:int:built', 'test:e2e:built', 'test:browser:built']) await held.end(script);
    expect(held.started).toEqual(['lint', 'typecheck', 'test:unit', 'build', 'test:repo', 'test:int:built', 'test:e2e:built', 'test:browser:built']);
    expect((await done).every((outcome) => outcome.passed)).toBe(true);
  });

  it('runs one step at a time, in order, with --jobs 1', async () => {
    const { jobs, steps } = selectSteps(['--jobs', '1']);
    expect(jobs).toBe(1);
    const held = heldRunner();
    const done = runSteps(steps, held.run, { jobs });
    for (const script of names(TEST_STEPS)) {
      await held.settle();
      expect(held.running()).toEqual([script]);
      await held.end(script);
    }
    expect(held.started).toEqual(names(TEST_STEPS));
    await done;
    expect(selectSteps([]).jobs).toBe(2);
  });

  it('says all passed when they did', async () => {
    const outcomes = await runSteps(TEST_STEPS, runner().run);
    expect(outcomes.every((outcome) => outcome.passed)).toBe(true);
    expect(summaryOf(outcomes).at(-1)).toBe('npm test: all 8 steps passed');
  });

  it('starts no further step once interrupted', async () => {
    const { ran, run } = runner();
    const outcomes = await runSteps(TEST_STEPS, run, { stopped: () => ran.length >= 2 });
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
    expect(names(selectSteps([]).steps)).toEqual(names(TEST_STEPS));
    const { steps } = selectSteps(['--steps', 'test:e2e:built, lint']);
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
    expect(() => selectSteps(['--jobs', '0'])).toThrow(/--jobs.*\n.*usage: npm test/s);
    expect(() => selectSteps(['--jobs', 'two'])).toThrow(UsageError);
  });
});
