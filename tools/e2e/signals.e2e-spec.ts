/**
 * Signals a built service gets from operators and Kubernetes: SIGHUP reloads (the wallet's
 * rollout file) or is acknowledged, and never stops the service; SIGTERM stops it with exit 0.
 * And under `npm start`'s supervisor: the supervisor SIGKILLed, the service stops gracefully.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { StartedService } from '@pay/testing';
import {
  builtServiceEnv,
  builtServiceMain,
  dropSchema,
  startBuiltService,
  testConsumerGroupsEnv,
  testDatabaseUrl,
  testKafka,
  testKafkaCredentials,
  uniqueName,
  waitFor,
} from '@pay/testing';

describe.each([
  // The wallet rereads its rollout file (unchanged here, so it logs nothing).
  ['wallet', undefined],
  ['history-projection', /SIGHUP: this service has no file to reload; still running/],
] as const)('%s under signals', (service, reloaded) => {
  const schema = uniqueName(`it_signals_${service.replace(/-/g, '_')}`);
  let started: StartedService | undefined;

  afterAll(async () => {
    await started?.stop('SIGKILL');
    await dropSchema(testDatabaseUrl(), schema);
  });

  it('keeps serving after SIGHUP, and exits 0 on SIGTERM', async () => {
    // Own consumer groups: this process must not take the real groups' partitions.
    started = await startBuiltService(service, { env: builtServiceEnv({ DB_SCHEMA: schema, ...testConsumerGroupsEnv(schema) }) });
    started.child.kill('SIGHUP');
    if (reloaded) await started.waitForOutput(reloaded);
    // Before SIGHUP was kept from the shutdown hooks, the service had begun stopping by now.
    await new Promise((next) => setTimeout(next, 1_500));
    expect(started.child.exitCode).toBeNull();
    expect(started.output()).not.toMatch(/shutting down/);
    expect((await fetch(`${started.url}/health/live`)).status).toBe(200);
    expect((await started.stop('SIGTERM'))?.code).toBe(0);
  });
});

/** Running: a zombie (exited, not reaped yet) does not count. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('a built service under npm start’s supervisor', () => {
  const schema = uniqueName('it_supervised_history');
  const group = `history-projection.${schema}`;
  let supervisor: ChildProcess | undefined;
  let servicePid: number | undefined;

  afterAll(async () => {
    supervisor?.kill('SIGKILL');
    if (servicePid !== undefined && running(servicePid)) process.kill(servicePid, 'SIGKILL');
    await dropSchema(testDatabaseUrl(), schema);
  });

  it('stops gracefully, leaving its consumer group, when the supervisor itself is SIGKILLed', async () => {
    const root = resolve(__dirname, '../..');
    supervisor = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'tools/supervisor.fixture.ts')], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        ...builtServiceEnv({ DB_SCHEMA: schema, HISTORY_CONSUMER_GROUP: group, ...testKafkaCredentials('history-projection') }),
        FIXTURE_SERVICE_MAIN: builtServiceMain('history-projection'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    supervisor.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    supervisor.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      () => output,
      (text) => /pids \[\d+\]/.test(text) && text.includes('"consumer started"'),
      { what: `the supervised history-projection consuming (output so far: ${output.slice(-2_000)})`, timeoutMs: 90_000 },
    );
    const pid = (JSON.parse(/pids (\[\d+\])/.exec(output)?.[1] ?? '[]') as number[])[0];
    servicePid = pid;
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const members = async (): Promise<{ state: string; members: number }> => {
        const described = (await admin.describeGroups([group])).groups[0];
        return { state: described.state, members: described.members.length };
      };
      await waitFor(members, (g) => g.state === 'Stable' && g.members === 1, { what: 'the service in its group', timeoutMs: 60_000 });

      supervisor.kill('SIGKILL');
      await waitFor(
        () => running(pid),
        (alive) => !alive,
        { what: 'the service gone after its supervisor', timeoutMs: 15_000 },
      );
      // Graceful: it left its group on the way out. A killed member would stay until its session (10 s) timed out.
      expect(await members()).toEqual({ state: 'Empty', members: 0 });
    } finally {
      await admin.disconnect();
    }
  });
});
