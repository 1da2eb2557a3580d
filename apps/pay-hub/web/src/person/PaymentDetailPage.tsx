import { useEffect, useState } from 'react';
import type { HistoryEntry, HistoryPage } from '../api';
import { api, errorText, failureText, formatMoney, label, query } from '../api';
import { Card, Notice, Page } from '../components';
import { Link } from '../router';

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** A payment with its refunds and chargebacks and whether the ledger posted it. Another person's payment is not found. */
export function PaymentDetailPage({ personId, paymentId }: { personId: string; paymentId: string }) {
  const [entries, setEntries] = useState<HistoryEntry[] | undefined>();
  const [error, setError] = useState('');

  useEffect(() => {
    setEntries(undefined);
    api<HistoryPage>('GET', `/api/history/v1/history/persons/${encodeURIComponent(personId)}/entries${query({ paymentId, order: 'asc', limit: '100' })}`).then(
      (page) => setEntries(page.entries),
      (failure: unknown) => setError(errorText(failure)),
    );
  }, [personId, paymentId]);

  if (error) return <Notice kind="error">{error}</Notice>;
  if (!entries) return <p role="status">Loading…</p>;
  const payment = entries.find((entry) => entry.id === `payment:${paymentId}`);
  if (!payment) {
    return (
      <Page title="Payment not found">
        <p>There is no payment {paymentId} in your history.</p>
        <Link to="/payments">Back to your payments</Link>
      </Page>
    );
  }
  const refunds = entries.filter((entry) => entry.kind === 'refund');
  const chargebacks = entries.filter((entry) => entry.kind === 'chargeback');
  return (
    <Page title={`${capitalised(label(payment.kind))} of ${formatMoney(payment.amount)}`}>
      <Card title="Payment">
        <dl>
          <dt>Payment id</dt>
          <dd>{payment.paymentId}</dd>
          <dt>Status</dt>
          <dd>{label(payment.status)}</dd>
          {payment.status === 'failed' && payment.failureCode && (
            <>
              <dt>Why it failed</dt>
              <dd>{failureText(payment.failureCode)}</dd>
            </>
          )}
          <dt>App</dt>
          <dd>{payment.app ?? '—'}</dd>
          <dt>{payment.direction === 'in' ? 'From' : 'To'}</dt>
          <dd>{payment.counterparty ? `${payment.counterparty.type} ${payment.counterparty.id}` : '—'}</dd>
          <dt>When</dt>
          <dd>{new Date(payment.occurredAt).toLocaleString()}</dd>
          <dt>Paid with</dt>
          <dd>{label(payment.paymentMethod.type)}</dd>
          <dt>Ledger</dt>
          <dd>
            {payment.ledgerTransactionId
              ? `Posted (transaction ${payment.ledgerTransactionId})`
              : payment.status === 'failed'
                ? 'Nothing posted: the payment failed'
                : 'Not posted to the ledger yet'}
          </dd>
        </dl>
      </Card>
      <Card title="Refunds">
        {refunds.length === 0 ? (
          <p>No refunds.</p>
        ) : (
          <ul>
            {refunds.map((refund) => (
              <li key={refund.id}>
                {formatMoney(refund.amount)}: {label(refund.status)} {refund.ledgerTransactionId ? '(posted)' : ''}
              </li>
            ))}
          </ul>
        )}
      </Card>
      {chargebacks.length > 0 && (
        <Card title="Disputes">
          <ul>
            {chargebacks.map((chargeback) => (
              <li key={chargeback.id}>
                {formatMoney(chargeback.amount)}: {label(chargeback.status)}
              </li>
            ))}
          </ul>
        </Card>
      )}
    </Page>
  );
}
