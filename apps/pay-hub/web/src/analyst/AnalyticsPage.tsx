import { useCallback, useEffect, useState } from 'react';
import type { AggregateRow, HistoryEntry, HistoryPage } from '../api';
import { api, APPS, ENTRY_KINDS, ENTRY_STATUSES, errorText, formatMoney, label, METHOD_TYPES, query } from '../api';
import { Button, Card, Field, Form, Notice, Page, Select } from '../components';
import type { Series } from './BarChart';
import { BarChart } from './BarChart';

type Dimension = 'app' | 'kind' | 'country';
const any = (values: readonly string[], all: string) => [{ value: '', text: all }, ...values.map((value) => ({ value, text: label(value) }))];
const EMPTY = { app: '', kind: '', status: '', currency: 'USD', methodType: '', counterparty: '', minAmount: '', maxAmount: '', from: '', to: '' };

function seriesOf(rows: AggregateRow[], dimension: Dimension): { periods: string[]; series: Series[] } {
  const periods = [...new Set(rows.map((row) => row.period))].sort();
  const byKey = new Map<string, Map<string, bigint>>();
  for (const row of rows) {
    const key = String(row[dimension] ?? 'unknown');
    const values = byKey.get(key) ?? new Map<string, bigint>();
    values.set(row.period, (values.get(row.period) ?? 0n) + BigInt(row.sum));
    byKey.set(key, values);
  }
  return { periods, series: [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, values]) => ({ key, values })) };
}

/**
 * Analysts: every filter of the history API, totals per day as charts, refunds and disputes, CSV
 * export with progress. People are pseudonymous as the API gives them.
 */
export function AnalyticsPage() {
  const [filters, setFilters] = useState(EMPTY);
  const [dimension, setDimension] = useState<Dimension>('app');
  const [totals, setTotals] = useState<AggregateRow[]>([]);
  const [reversals, setReversals] = useState<AggregateRow[]>([]);
  const [entries, setEntries] = useState<HistoryEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ rows: number; bytes: number; done: boolean } | undefined>();
  const [error, setError] = useState('');

  const filterParams = useCallback(
    () => ({
      app: filters.app,
      kind: filters.kind,
      status: filters.status,
      currency: filters.currency,
      methodType: filters.methodType,
      counterparty: filters.counterparty.trim(),
      minAmount: filters.minAmount.trim(),
      maxAmount: filters.maxAmount.trim(),
      from: filters.from ? `${filters.from}T00:00:00Z` : undefined,
      to: filters.to ? new Date(Date.parse(`${filters.to}T00:00:00Z`) + 86_400_000).toISOString() : undefined,
    }),
    [filters],
  );

  const load = useCallback(
    async (after?: string) => {
      setError('');
      try {
        const params = filterParams();
        if (!after) {
          const [all, back] = await Promise.all([
            api<{ rows: AggregateRow[] }>('GET', `/api/history/v1/history/aggregates${query({ ...params, interval: 'day', groupBy: dimension })}`),
            api<{ rows: AggregateRow[] }>(
              'GET',
              `/api/history/v1/history/aggregates${query({ ...params, kind: params.kind || 'refund,chargeback', interval: 'day', groupBy: 'kind' })}`,
            ),
          ]);
          setTotals(all.rows);
          setReversals(back.rows.filter((row) => row.kind === 'refund' || row.kind === 'chargeback'));
        }
        const page = await api<HistoryPage>('GET', `/api/history/v1/history/entries${query({ ...params, limit: '25', cursor: after })}`);
        setEntries((current) => (after ? [...current, ...page.entries] : page.entries));
        setCursor(page.nextCursor);
      } catch (failure) {
        setError(errorText(failure));
      }
    },
    [filterParams, dimension],
  );

  useEffect(() => void load(), []);

  /** Streams the CSV, counting rows as they come, then hands it to the browser as a download. */
  const exportCsv = async (): Promise<void> => {
    setError('');
    setProgress({ rows: 0, bytes: 0, done: false });
    try {
      const response = await fetch(`/api/history/v1/history/entries/export${query(filterParams())}`, {
        credentials: 'same-origin',
        headers: { accept: 'text/csv' },
      });
      if (!response.ok || !response.body) throw new Error(`the export failed (HTTP ${response.status})`);
      const reader = response.body.getReader();
      const chunks: Uint8Array[] = [];
      let rows = 0;
      let bytes = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        bytes += value.length;
        for (const byte of value) if (byte === 10) rows += 1;
        setProgress({ rows: Math.max(0, rows - 1), bytes, done: false });
      }
      setProgress({ rows: Math.max(0, rows - 1), bytes, done: true });
      const url = URL.createObjectURL(new Blob(chunks as BlobPart[], { type: 'text/csv' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = 'history.csv';
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (failure) {
      setProgress(undefined);
      setError(errorText(failure));
    }
  };

  const set = (name: keyof typeof EMPTY) => (event: { target: { value: string } }) => setFilters({ ...filters, [name]: event.target.value });
  const chart = seriesOf(totals, dimension);
  const back = seriesOf(reversals, 'kind');
  const currency = filters.currency || 'USD';

  return (
    <Page title="Analytics">
      <Form onSubmit={() => load()} label="Filter history">
        <div className="row">
          <Select label="App" value={filters.app} onChange={set('app')} options={any(APPS, 'All apps')} />
          <Select label="Kind" value={filters.kind} onChange={set('kind')} options={any(ENTRY_KINDS, 'All kinds')} />
          <Select label="Status" value={filters.status} onChange={set('status')} options={any(ENTRY_STATUSES, 'All statuses')} />
          <Field label="Currency" value={filters.currency} onChange={set('currency')} maxLength={3} hint="Charts add amounts of one currency" />
          <Select label="Method" value={filters.methodType} onChange={set('methodType')} options={any(METHOD_TYPES, 'All methods')} />
          <Field label="Payee" value={filters.counterparty} onChange={set('counterparty')} />
          <Field label="Minimum (minor units)" inputMode="numeric" value={filters.minAmount} onChange={set('minAmount')} />
          <Field label="Maximum (minor units)" inputMode="numeric" value={filters.maxAmount} onChange={set('maxAmount')} />
          <Field label="From" type="date" value={filters.from} onChange={set('from')} />
          <Field label="To" type="date" value={filters.to} onChange={set('to')} />
          <Select
            label="Chart by"
            value={dimension}
            onChange={(event) => setDimension(event.target.value as Dimension)}
            options={[
              { value: 'app', text: 'App' },
              { value: 'kind', text: 'Kind' },
              { value: 'country', text: 'Country' },
            ]}
          />
          <Button type="submit">Apply</Button>
        </div>
      </Form>
      <Notice kind="error">{error}</Notice>
      <Card title="Totals per day">
        <BarChart title={`Totals per day by ${dimension}`} periods={chart.periods} series={chart.series} currency={currency} />
      </Card>
      <Card title="Refunds and disputes per day">
        {back.periods.length === 0 ? (
          <p>No refunds or disputes match.</p>
        ) : (
          <BarChart title="Refunds and disputes per day" periods={back.periods} series={back.series} currency={currency} />
        )}
      </Card>
      <Card title="Export">
        <Button onClick={() => void exportCsv()} disabled={progress !== undefined && !progress.done}>
          Download CSV
        </Button>
        {progress && (
          <div role="status">
            <progress aria-label="Export progress" value={progress.done ? 1 : undefined} max={1} />{' '}
            {progress.done ? `Exported ${progress.rows} rows (${progress.bytes} bytes).` : `Exporting… ${progress.rows} rows so far`}
          </div>
        )}
      </Card>
      <Card title="Entries">
        <table>
          <caption>Matching entries (people are pseudonymous)</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Payer</th>
              <th scope="col">Payee</th>
              <th scope="col">App</th>
              <th scope="col">Country</th>
              <th scope="col">Kind</th>
              <th scope="col">Status</th>
              <th scope="col" className="amount">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td>{new Date(entry.occurredAt).toLocaleString()}</td>
                <td>{entry.payer.id}</td>
                <td>
                  {entry.payee.type} {entry.payee.id}
                </td>
                <td>{entry.app ?? '—'}</td>
                <td>{entry.country ?? '—'}</td>
                <td>{label(entry.kind)}</td>
                <td>{label(entry.status)}</td>
                <td className="amount">{formatMoney(entry.amount)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {cursor && (
          <Button variant="secondary" onClick={() => void load(cursor)}>
            Show more
          </Button>
        )}
      </Card>
    </Page>
  );
}
