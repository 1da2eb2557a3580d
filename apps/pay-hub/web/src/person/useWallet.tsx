import { useCallback, useEffect, useState } from 'react';
import type { Wallet } from '../api';
import { api, ApiError, errorText } from '../api';
import { Button, Card, Field, Form, Notice, Page } from '../components';

export const walletPath = (personId: string): string => `/api/wallet/v1/wallets/${encodeURIComponent(personId)}`;

/** The person's wallet (undefined while loading, null when they have none yet). */
export function useWallet(personId: string): { wallet: Wallet | null | undefined; error: string; reload: () => Promise<void> } {
  const [wallet, setWallet] = useState<Wallet | null | undefined>();
  const [error, setError] = useState('');
  const reload = useCallback(async () => {
    try {
      setWallet(await api<Wallet>('GET', walletPath(personId)));
      setError('');
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 404) setWallet(null);
      else setError(errorText(failure));
    }
  }, [personId]);
  useEffect(() => void reload(), [reload]);
  return { wallet, error, reload };
}

/** In place of a page's content while the person has no wallet. */
export function OpenWallet({ title, personId, onOpened }: { title: string; personId: string; onOpened: () => Promise<void> }) {
  const [country, setCountry] = useState('US');
  const [error, setError] = useState('');
  const open = async (): Promise<void> => {
    try {
      await api('POST', walletPath(personId), { country: country.trim().toUpperCase() });
      await onOpened();
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <Page title={title}>
      <Card title="Open your Pay wallet">
        <p>You have no Pay wallet yet. Pay is offered country by country.</p>
        <Form onSubmit={open} label="Open your wallet">
          <Field label="Country" hint="Two letters, e.g. US or DE" value={country} onChange={(event) => setCountry(event.target.value)} maxLength={2} />
          <Notice kind="error">{error}</Notice>
          <Button type="submit">Open wallet</Button>
        </Form>
      </Card>
    </Page>
  );
}
