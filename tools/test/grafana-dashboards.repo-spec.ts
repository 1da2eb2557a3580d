/**
 * The Grafana dashboards as code (deploy/grafana): every panel queries only metrics the services
 * export (a panel on a misspelt metric stays empty), through the data source Grafana is
 * provisioned with; the purchase-path dashboard shows what issue 15 asks of it; and
 * docker-compose.yml provisions them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { exportedMetricNames, metricsOf, selectorsOf } from './prometheus-metrics';

const ROOT = resolve(__dirname, '../..');
const DASHBOARDS = join(ROOT, 'deploy/grafana/dashboards');

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

const dashboards: [string, Dashboard][] = readdirSync(DASHBOARDS)
  .filter((name) => name.endsWith('.json'))
  .map((name) => [name, JSON.parse(readFileSync(join(DASHBOARDS, name), 'utf8')) as Dashboard]);

const provisionedDataSources = (
  parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: { uid: string; type: string }[] }
).datasources;

describe('Grafana dashboards (deploy/grafana)', () => {
  it('has dashboards with unique uids, and panels with unique ids and at least one query each', () => {
    expect(dashboards.length).toBeGreaterThan(0);
    expect(new Set(dashboards.map(([, d]) => d.uid)).size).toBe(dashboards.length);
    for (const [name, dashboard] of dashboards) {
      expect({ name, panels: dashboard.panels.length > 0 }).toEqual({ name, panels: true });
      expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
      const withoutQuery = dashboard.panels.filter((panel) => !(panel.targets ?? []).some((t) => t.expr.trim() !== '')).map((panel) => panel.title);
      expect({ name, withoutQuery }).toEqual({ name, withoutQuery: [] });
    }
  });

  it('queries only metrics the services export', () => {
    const exported = exportedMetricNames();
    const unknown = dashboards.flatMap(([name, dashboard]) =>
      dashboard.panels.flatMap((panel) =>
        (panel.targets ?? []).flatMap((target) =>
          metricsOf(target.expr)
            .filter((metric) => !exported.has(metric))
            .map((metric) => `${name} / ${panel.title}: ${metric}`),
        ),
      ),
    );
    expect(unknown).toEqual([]);
  });

  it('finds the label matchers a panel selects samples by (checked against the running services in tools/e2e/payments-metrics)', () => {
    expect(
      selectorsOf('sum by (service) (rate(http_server_request_duration_count{service="payment-orchestration", route="/v1/{x}", state!~"a|b"}[5m])) / up'),
    ).toEqual([
      {
        metric: 'http_server_request_duration_count',
        matchers: [
          { label: 'service', op: '=', value: 'payment-orchestration' },
          { label: 'route', op: '=', value: '/v1/{x}' },
        ],
      },
    ]);
    expect(selectorsOf('messaging_consumer_state{state=~"connected|stopped"}')).toEqual([
      { metric: 'messaging_consumer_state', matchers: [{ label: 'state', op: '=~', value: 'connected|stopped' }] },
    ]);
  });

  it('reads through the data source Grafana is provisioned with', () => {
    const known = new Set(provisionedDataSources.map((d) => `${d.type}:${d.uid}`));
    const elsewhere = dashboards.flatMap(([name, dashboard]) =>
      dashboard.panels.flatMap((panel) =>
        [panel.datasource, ...(panel.targets ?? []).map((t) => t.datasource)]
          .filter((d) => d !== undefined && !known.has(`${d.type}:${d.uid}`))
          .map((d) => `${name} / ${panel.title}: ${JSON.stringify(d)}`),
      ),
    );
    expect(elsewhere).toEqual([]);
  });

  it('shows the purchase path: intake, outcomes, latency, consumer lag and state, outbox backlog, ledger postings, PSP errors', () => {
    const purchasePath = dashboards.find(([, d]) => d.uid === 'pay-purchase-path')?.[1];
    expect(purchasePath).toBeDefined();
    const metrics = new Set(purchasePath?.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricsOf(t.expr))));
    const required: Record<string, string> = {
      'intake rate': 'messaging_process_messages_total',
      'outcome mix': 'psp_client_request_duration_count',
      latency: 'psp_client_request_duration_bucket',
      'consumer lag': 'messaging_consumer_lag',
      'consumers not connected': 'messaging_consumer_state',
      'outbox backlog': 'outbox_backlog',
      'ledger posting rate': 'ledger_journal_entries_total',
      'PSP errors': 'psp_client_errors_total',
    };
    expect(Object.entries(required).filter(([, metric]) => !metrics.has(metric))).toEqual([]);
  });

  it('is provisioned by docker compose: the data source, the dashboards folder Grafana loads, and the Prometheus it reads', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { volumes?: string[] }> };
    const volumes = compose.services.grafana?.volumes ?? [];
    expect(volumes).toEqual(
      expect.arrayContaining(['./deploy/grafana/provisioning:/etc/grafana/provisioning:ro', './deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro']),
    );
    const providers = (
      parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/dashboards/pay.yml'), 'utf8')) as { providers: { options: { path: string } }[] }
    ).providers;
    expect(providers.map((p) => p.options.path)).toEqual(['/var/lib/grafana/dashboards']);
    expect(compose.services.prometheus).toBeDefined();
    expect(
      (parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: { url: string }[] }).datasources[0]
        .url,
    ).toBe('http://prometheus:9090');
  });
});
