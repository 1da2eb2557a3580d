import { useCallback, useEffect, useState } from 'react';
import type { HistoryEntry, HistoryPage } from '../api';
import { api, APPS, ENTRY_KINDS, ENTRY_STATUSES, errorText, failureText, formatMoney, label, query } from '../api';
import { Button, Field, Form, Notice, Page, Select } from '../components';
import { Link } from '../router';

const PAGE_SIZE = '20';
const any = (values: readonly string[], all: string) => [{ value: '', text: all }, ...values.map((value) => ({ value, text: label(value) }))];
const dayStart = (date: string): string | undefined => (date ? `${date}T00:00:00Z` : undefined);
const dayAfter = (date: string): string | undefined => (date ? new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString() : undefined);

/** One timeline of the person's payments in every app: filters, cursor pages. */
export function PaymentsPage({ personId }: { personId: string }) {
  const [filters, setFilters] = useState({ app: '', kind: '', status: '', from: '', to: '' });
  const [entries, setEntries] = useState<HistoryEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);

  const load = useCallback(
    async (after?: string) => {
      setLoading(true);
      setError('');
      try {
        const page = await api<HistoryPage>(
          'GET',
          `/api/history/v1/history/persons/${encodeURIComponent(personId)}/entries${query({
            app: filters.app,
            kind: filters.kind,
            status: filters.status,
            from: dayStart(filters.from),
            to: dayAfter(filters.to),
            limit: PAGE_SIZE,
            cursor: after,
          })}`,
        );
        setEntries((current) => (after ? [...current, ...page.entries] : page.entries));
        setCursor(page.nextCursor);
      } catch (failure) {
        setError(errorText(failure));
      } finally {
        setLoading(false);
      }
    },
    [personId, filters],
  );

  useEffect(() => void load(), [personId]);

  const set = (name: keyof typeof filters) => (event: { target: { value: string } }) => setFilters({ ...filters, [name]: event.target.value });

  return (
    <Page title="Your payments">
      <Form onSubmit={() => load()} label="Filter payments">
        <div className="row">
          <Select label="App" value={filters.app} onChange={set('app')} options={any(APPS, 'All apps')} />
          <Select label="Kind" value={filters.kind} onChange={set('kind')} options={any(ENTRY_KINDS, 'All kinds')} />
          <Select label="Status" value={filters.status} onChange={set('status')} options={any(ENTRY_STATUSES, 'All statuses')} />
          <Field label="From" type="date" value={filters.from} onChange={set('from')} />
          <Field label="To" type="date" value={filters.to} onChange={set('to')} />
          <Button type="submit">Apply filters</Button>
        </div>
      </Form>
      <Notice kind="error">{error}</Notice>
      <table>
        <caption>Payments, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">App</th>
            <th scope="col">What</th>
            <th scope="col">With</th>
            <th scope="col" className="amount">
              Amount
            </th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id} data-payment-id={entry.paymentId}>
              <td>{new Date(entry.occurredAt).toLocaleString()}</td>
              <td>{entry.app ?? '—'}</td>
              <td>
                <Link to={`/payments/${encodeURIComponent(entry.paymentId)}`}>{label(entry.kind)}</Link>
              </td>
              <td>{entry.counterparty ? `${entry.counterparty.type} ${entry.counterparty.id}` : '—'}</td>
              <td className="amount">
                {entry.direction === 'in' ? '+' : ''}
                {formatMoney(entry.amount)}
              </td>
              <td>
                <span className="badge">{label(entry.status)}</span>
                {entry.status === 'failed' && entry.failureCode && <span className="failure-reason">{failureText(entry.failureCode)}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!loading && entries.length === 0 && !error && <p role="status">No payments match.</p>}
      {loading && <p role="status">Loading…</p>}
      {cursor && !loading && (
        <Button variant="secondary" onClick={() => void load(cursor)}>
          Show more
        </Button>
      )}
    </Page>
  );
}
