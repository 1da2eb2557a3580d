/**
 * The five services boot against real PostgreSQL and Kafka, answer their health probes and
 * serve OpenAPI (every path parameter declared); a wrong DATABASE_URL or KAFKA_BROKERS ends the process at once with one clear
 * line (no stack trace, no retry loop).
 */
import type { RunningService, ServiceDefinition } from '@pay/platform';
import { createService } from '@pay/platform';
import {
  builtServiceMain,
  dropSchema,
  prometheusValue,
  scrapeMetrics,
  spawnBuiltService,
  testConsumerGroupsEnv,
  testDatabaseUrl,
  testKafkaBrokers,
  testKafkaEnv,
  uniqueName,
  waitFor,
} from '@pay/testing';
import { adSignalAggregationService } from '@pay/ad-signal-aggregation/tools';
import { historyProjectionService } from '@pay/history-projection/tools';
import { paymentOrchestrationService } from '@pay/payment-orchestration/tools';
import { supportService } from '@pay/support/tools';
import { walletService } from '@pay/wallet/tools';

const definitions: ServiceDefinition[] = [
  walletService,
  paymentOrchestrationService,
  historyProjectionService,
  adSignalAggregationService,
  supportService,
] as ServiceDefinition[];

describe.each(definitions.map((definition) => [definition.name, definition] as const))('service %s', (_name, definition) => {
  let service: RunningService;
  const schema = uniqueName(`it_${definition.schema}`);
  const instance = `${schema.replace(/_/g, '-')}-replica`;

  beforeAll(async () => {
    service = await createService(definition, {
      DATABASE_URL: testDatabaseUrl(),
      ...testKafkaEnv(definition.name),
      DB_SCHEMA: schema,
      PORT: '0',
      LOG_LEVEL: 'silent',
      OUTBOX_RELAY_NAME: 'it',
      ...testConsumerGroupsEnv(schema),
      KAFKA_GROUP_INSTANCE_ID: instance,
    });
  });

  afterAll(async () => {
    await service?.app.close();
    await dropSchema(testDatabaseUrl(), schema);
  });

  it('is live and ready, with PostgreSQL and Kafka up', async () => {
    expect(await (await fetch(`${service.url}/health/live`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, kafka: { status: 'up' } } });
  });

  it('declares in its OpenAPI document every path parameter of every route', async () => {
    type Operation = { parameters?: { name: string; in: string; required?: boolean }[] };
    const document = (await (await fetch(`${service.url}/docs/json`)).json()) as { paths: Record<string, Record<string, Operation>> };
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      for (const [method, operation] of Object.entries(operations)) {
        const declared = new Set(
          (operation.parameters ?? []).filter((parameter) => parameter.in === 'path' && parameter.required).map((parameter) => parameter.name),
        );
        for (const name of names) if (!declared.has(name)) missing.push(`${method.toUpperCase()} ${path}: {${name}}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('serves its OpenAPI document at /docs', async () => {
    const document = (await (await fetch(`${service.url}/docs/json`)).json()) as { openapi: string; info: { title: string }; paths: Record<string, unknown> };
    expect(document.openapi).toMatch(/^3\./);
    expect(document.info.title).toBe(definition.title);
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
    expect((await fetch(`${service.url}/docs`)).status).toBe(200);
  });

  it('answers with security headers and no-store, without naming its framework', async () => {
    for (const [path, status] of [
      ['/health/live', 200],
      ['/no/such/route', 404],
      ['/metrics', 200],
    ] as const) {
      const response = await fetch(`${service.url}${path}`);
      expect([path, response.status]).toEqual([path, status]);
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    }
    // The interactive OpenAPI page runs its own scripts: no API policy there, still no-store.
    const docs = await fetch(`${service.url}/docs`);
    expect(docs.headers.get('content-security-policy')).toBeNull();
    expect(docs.headers.get('cache-control')).toBe('no-store');
  });

  it('created its schema by migrations: inbox and outbox exist', async () => {
    const tables: { table_name: string }[] = await service.runtime.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema],
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['inbox', 'outbox', 'outbox_checkpoint', 'schema_migrations']));
  });

  it('exports metrics for Prometheus', async () => {
    await fetch(`${service.url}/health/live`);
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await response.text()).toMatch(/http_server_request_duration_count\{[^}]*route="\/health\/live"[^}]*\} [1-9]/);
  });

  it('counts requests refused before any handler runs: 401 from the auth guard, 404 for no route', async () => {
    const document = (await (await fetch(`${service.url}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const [path, operations] = Object.entries(document.paths).find(([candidate]) => !/^\/(health|metrics|docs)/.test(candidate)) ?? [];
    expect(path).toBeDefined();
    const method = Object.keys(operations ?? {})[0]?.toUpperCase() ?? 'GET';
    const route = (path as string).replace(/\{([^}]+)\}/g, ':$1');
    const refused = await fetch(`${service.url}${(path as string).replace(/\{[^}]+\}/g, 'x')}`, { method });
    expect(refused.status).toBe(401);
    expect((await fetch(`${service.url}/no/such/route`)).status).toBe(404);
    const metrics = await scrapeMetrics(service.url);
    const count = (labels: Record<string, string>): number => prometheusValue(metrics, 'http_server_request_duration_count', labels);
    expect(count({ method, route, status_code: '401' })).toBeGreaterThan(0);
    expect(count({ route: 'unmatched', status_code: '404' })).toBeGreaterThan(0);
  });

  it("records the member id of each of its consumer groups for its instance, holding the instance's lock (ADR 0015)", async () => {
    const groups = (definition.consumers?.(service.runtime.config) ?? []).filter((subscription) => subscription.enabled ?? true).map((s) => s.groupId);
    expect(groups.length).toBeGreaterThan(0);
    const rows = await waitFor(
      (): Promise<Array<{ group_id: string; member_id: string }>> =>
        service.runtime.dataSource.query('SELECT group_id, member_id FROM consumer_group_members WHERE instance_id = $1', [instance]),
      (list) => list.length === groups.length,
      { what: `a member id recorded for each of ${groups.join(', ')}`, timeoutMs: 60_000 },
    );
    expect(new Set(rows.map((row) => row.group_id))).toEqual(new Set(groups));
    const [{ n }] = await service.runtime.dataSource.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`,
      [`${definition.name}-members`],
    );
    expect(n).toBe(1);
  });
});

describe('a service started with a bad dependency', () => {
  beforeAll(() => {
    builtServiceMain('wallet');
  });

  async function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
    const started = Date.now();
    const wallet = spawnBuiltService('wallet', {
      env: { PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: testDatabaseUrl(), KAFKA_BROKERS: testKafkaBrokers().join(','), ...env },
    });
    const exit = await wallet.waitForExit(60_000);
    if (!exit) {
      await wallet.stop('SIGKILL');
      throw new Error(`still running after 60 s; stderr so far: ${wallet.stderr()}`);
    }
    return { code: exit.code, stderr: wallet.stderr(), ms: exit.at - started };
  }

  const noStackTrace = (stderr: string): void => expect(stderr).not.toMatch(/^\s+at /m);

  it('exits 1 naming DATABASE_URL when PostgreSQL does not answer, without the password', async () => {
    const { code, stderr } = await run({ DATABASE_URL: 'postgres://postgres:s3cret@127.0.0.1:1/payments' });
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(
      /^wallet: cannot start: cannot reach PostgreSQL at DATABASE_URL=postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/payments: .*ECONNREFUSED/,
    );
    expect(stderr).not.toContain('s3cret');
    noStackTrace(stderr);
  });

  it('exits 1 naming KAFKA_BROKERS when Kafka does not answer', async () => {
    const { code, stderr } = await run({ KAFKA_BROKERS: '127.0.0.1:1' });
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^wallet: cannot start: cannot reach Kafka at KAFKA_BROKERS=127\.0\.0\.1:1/);
    noStackTrace(stderr);
  });

  it('exits 1 naming each malformed variable', async () => {
    const { code, stderr } = await run({ KAFKA_BROKERS: 'kafka-without-port', DATABASE_URL: 'mysql://x' });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      'wallet: invalid configuration: DATABASE_URL must be a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/payments; KAFKA_BROKERS must be a comma-separated list of host:port, e.g. 127.0.0.1:9092',
    );
  });
});
