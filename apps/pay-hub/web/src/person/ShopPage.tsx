import { useState } from 'react';
import type { Money } from '../api';
import { api, ApiError, APPS, errorText, formatMoney, toMinorUnits } from '../api';
import { Button, DevelopmentBanner, Field, Form, Notice, Page, Select } from '../components';
import { Link } from '../router';
import { ConfirmPayment } from './ConfirmPayment';
import type { StepUpProof } from './passkeys';
import { OpenWallet, useWallet } from './useWallet';

interface Accepted {
  paymentId: string;
  status: string;
  amount: Money;
}

/**
 * Development only: a checkout such as the apps' shops have, so a person can buy and confirm a
 * payment above the step-up threshold in the hub. The hub's server sends it as an app's backend would.
 */
export function ShopPage({ personId }: { personId: string }) {
  const { wallet, error: loadError, reload } = useWallet(personId);
  const [form, setForm] = useState({ app: '', merchantId: 'merchant-hub-shop', amount: '', currency: 'USD', methodId: '' });
  const [pending, setPending] = useState<Money | undefined>();
  const [accepted, setAccepted] = useState<Accepted | undefined>();
  const [error, setError] = useState('');

  if (loadError) return <Notice kind="error">{loadError}</Notice>;
  if (wallet === undefined) return <p role="status">Loading…</p>;
  if (wallet === null) return <OpenWallet title="Shop (development)" personId={personId} onOpened={reload} />;
  const app = form.app || wallet.apps[0] || APPS[0];

  const purchase = async (amount: Money, proof?: StepUpProof): Promise<void> => {
    setError('');
    try {
      const answer = await api<Accepted>('POST', '/bff/dev-shop/purchases', {
        requestId: crypto.randomUUID(),
        app,
        merchantId: form.merchantId.trim(),
        country: wallet.country,
        amount,
        ...(form.methodId ? { paymentMethodId: form.methodId } : {}),
        ...(proof ? { stepUpProof: proof.proof } : {}),
      });
      setPending(undefined);
      setAccepted(answer);
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'STEP_UP_REQUIRED') return setPending(amount);
      setPending(undefined);
      setError(errorText(failure));
    }
  };

  const buy = async (): Promise<void> => {
    setAccepted(undefined);
    const minor = toMinorUnits(form.amount, form.currency);
    if (!minor) return setError(`Amount: write it like 125.00 (${form.currency}).`);
    await purchase({ amount: minor, currency: form.currency });
  };

  // An account the bank refused for good is not offered: its payments would fail before reaching the provider.
  const methods = wallet.paymentMethods.filter((method) => method.status === 'active' && !method.unusableReason);
  return (
    <Page title="Shop (development)">
      <DevelopmentBanner />
      <Form onSubmit={buy} label="Buy">
        <div className="row">
          <Select
            label="App"
            value={app}
            onChange={(event) => setForm({ ...form, app: event.target.value })}
            options={APPS.map((value) => ({ value, text: value }))}
          />
          <Field label="Merchant" value={form.merchantId} onChange={(event) => setForm({ ...form, merchantId: event.target.value })} />
          <Field
            label="Amount"
            inputMode="decimal"
            hint="e.g. 125.00"
            value={form.amount}
            onChange={(event) => setForm({ ...form, amount: event.target.value })}
          />
          <Select
            label="Currency"
            value={form.currency}
            onChange={(event) => setForm({ ...form, currency: event.target.value })}
            options={['USD', 'EUR', 'GBP'].map((value) => ({ value, text: value }))}
          />
          <Select
            label="Pay with"
            value={form.methodId}
            onChange={(event) => setForm({ ...form, methodId: event.target.value })}
            options={[{ value: '', text: 'My preferred method' }, ...methods.map((method) => ({ value: method.id, text: method.label }))]}
          />
          <Button type="submit" disabled={pending !== undefined}>
            Buy
          </Button>
        </div>
      </Form>
      {pending && (
        <ConfirmPayment personId={personId} amount={pending} onConfirmed={(proof) => void purchase(pending, proof)} onCancel={() => setPending(undefined)} />
      )}
      <Notice kind="error">{error}</Notice>
      {accepted && (
        <Notice kind="success">
          Payment of {formatMoney(accepted.amount)} accepted ({accepted.status}).{' '}
          <Link to={`/payments/${accepted.paymentId}`}>See payment {accepted.paymentId}</Link>
        </Notice>
      )}
    </Page>
  );
}
