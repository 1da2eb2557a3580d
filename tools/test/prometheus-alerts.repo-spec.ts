/**
 * The Prometheus alerting rules (deploy/prometheus/alerts.yml): each alert has a severity and a
 * summary, is described in docs/operations.md, and reads only metrics that the services export
 * (an alert on a misspelt metric never fires). Where promtool is installed, the rules also pass
 * their unit tests (deploy/prometheus/alerts.test.yml).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { exportedMetricNames, metricsOf } from './prometheus-metrics';

const ROOT = resolve(__dirname, '../..');

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: { severity?: string };
  annotations?: { summary?: string };
}

const rules: AlertRule[] = (parse(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

describe('Prometheus alerting rules', () => {
  it('has alerts, each with a unique name, a page or ticket severity and a summary', () => {
    expect(rules.length).toBeGreaterThan(0);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    for (const rule of rules) {
      expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({ alert: rule.alert, severity: expect.stringMatching(/^(page|ticket)$/) });
      expect({ alert: rule.alert, summary: rule.annotations?.summary }).toEqual({ alert: rule.alert, summary: expect.any(String) });
    }
  });

  it('describes every alert in docs/operations.md, and no alert that does not exist', () => {
    const operations = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const section = operations.slice(operations.indexOf('## Alerts'));
    const documented = [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(rules.map((r) => r.alert).sort());
  });

  it('reads only metrics the services export', () => {
    const exported = exportedMetricNames();
    const unknown = rules.flatMap((rule) =>
      metricsOf(rule.expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${rule.alert}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('finds the metric names of an expression', () => {
    expect(metricsOf('sum by (service, le) (rate(http_server_request_duration_bucket{status_code=~"5.."}[5m])) > 1 unless on () up{job="x"} == 0')).toEqual([
      'http_server_request_duration_bucket',
      'up',
    ]);
  });

  const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
  (promtool ? it : it.skip)(`passes its promtool unit tests${promtool ? '' : ' (skipped: promtool is not installed; Debian package `prometheus`)'}`, () => {
    const run = spawnSync('promtool', ['test', 'rules', 'deploy/prometheus/alerts.test.yml'], { cwd: ROOT, encoding: 'utf8' });
    expect({ status: run.status, output: `${run.stdout}${run.stderr}` }).toEqual({ status: 0, output: expect.stringMatching(/SUCCESS/) });
  });
});
