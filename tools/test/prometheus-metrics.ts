/**
 * What Prometheus sees of the services' metrics, read from the source (apps/ and libs/), and (from
 * tools/promql.ts) the metric names a PromQL expression selects: for the checks of the alerting
 * rules and dashboards (an alert or panel on a misspelt metric never shows anything).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export { dashboardQueries, metricsOf, SCRAPE_LABELS, selectorsOf } from '@pay/tools/promql';
export type { Selector } from '@pay/tools/promql';

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
