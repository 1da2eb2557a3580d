/**
 * What Prometheus sees of the services' metrics, read from the source (apps/ and libs/), and the
 * metric names a PromQL expression selects: for the checks of the alerting rules and dashboards
 * (an alert or panel on a misspelt metric never shows anything).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !/\.(int-|e2e-|repo-)?spec\.ts$/.test(entry.name) ? [path] : [];
  });
}

/** What Prometheus sees of each OpenTelemetry instrument created in apps/ and libs/. */
export function exportedMetricNames(): Set<string> {
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
export function metricsOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)].map((m) => m[1]).filter((name) => !KEYWORDS.has(name.toLowerCase()));
}

/** Labels Prometheus adds when it scrapes (deploy/compose/prometheus.yml, the k8s scrape config), not on a service's /metrics. */
export const SCRAPE_LABELS: ReadonlySet<string> = new Set(['service', 'instance', 'job']);

/** A selector of an expression that names samples: `name{label="value", other=~"a|b"}` (negative matchers left out). */
export interface Selector {
  metric: string;
  /** Each `=` or `=~` matcher: a sample of the metric must carry the label with a matching value. */
  matchers: { label: string; op: '=' | '=~'; value: string }[];
}

/** The selectors with label matchers of an expression (`name{…}`), for checking them against scraped samples. */
export function selectorsOf(expr: string): Selector[] {
  return [...expr.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}/g)].map(([, metric, body]) => ({
    metric,
    matchers: [...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)]
      .filter(([, , op]) => op === '=' || op === '=~')
      .map(([, label, op, value]) => ({ label, op: op as '=' | '=~', value: value.replace(/\\(.)/g, '$1') })),
  }));
}

/** Every query of the Grafana dashboards as code (deploy/grafana/dashboards), with the dashboard and panel it is in. */
export function dashboardQueries(): { where: string; expr: string }[] {
  const directory = join(ROOT, 'deploy/grafana/dashboards');
  return readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .flatMap((name) => {
      const dashboard = JSON.parse(readFileSync(join(directory, name), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
      return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `${name} / ${panel.title}`, expr: target.expr })));
    });
}
