/**
 * What a PromQL expression selects — its metric names, and the label matchers of its selectors —
 * and the queries of the Grafana dashboards as code (deploy/grafana/dashboards): for the checks of
 * the alerting rules and dashboards against the services' source (tools/test) and against what the
 * running services serve on /metrics (tools/e2e/payments-metrics.e2e-spec.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

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
