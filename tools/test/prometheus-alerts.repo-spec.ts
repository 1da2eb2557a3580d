/**
 * The Prometheus alerting rules (deploy/prometheus/alerts.yml): each alert has a severity and a
 * summary, is described in docs/operations.md, and reads only metrics that the services export
 * (an alert on a misspelt metric never fires). Where promtool is installed, the rules also pass
 * their unit tests (deploy/prometheus/alerts.test.yml).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

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

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !/\.(int-|e2e-|repo-)?spec\.ts$/.test(entry.name) ? [path] : [];
  });
}

/** What Prometheus sees of each OpenTelemetry instrument created in apps/ and libs/. */
function exportedMetricNames(): Set<string> {
  const names = new Set<string>(['up']);
  const instrument = /(?:create(Counter|UpDownCounter|Histogram|ObservableGauge|Gauge)|new (LastValueGauge))\(\s*'([^']+)'/g;
  for (const file of [...sourceFiles(join(ROOT, 'apps')), ...sourceFiles(join(ROOT, 'libs'))]) {
    for (const [, kind, gauge, name] of readFileSync(file, 'utf8').matchAll(instrument)) {
      const base = name.replace(/\./g, '_');
      if (kind === 'Counter') names.add(`${base}_total`);
      else if (kind === 'Histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${base}${suffix}`);
      else if (kind || gauge) names.add(base);
    }
  }
  return names;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/** The metric names an expression selects (label matchers, groupings, strings and ranges removed). */
function metricsOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)].map((m) => m[1]).filter((name) => !KEYWORDS.has(name.toLowerCase()));
}

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
