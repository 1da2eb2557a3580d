import { useState } from 'react';
import { api, errorText } from '../api';
import { Card, Checkbox, Notice, Page } from '../components';
import { OpenWallet, useWallet, walletPath } from './useWallet';

export function PrivacyPage({ personId }: { personId: string }) {
  const { wallet, error: loadError, reload } = useWallet(personId);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  if (loadError) return <Notice kind="error">{loadError}</Notice>;
  if (wallet === undefined) return <p role="status">Loading…</p>;
  if (wallet === null) return <OpenWallet title="Privacy" personId={personId} onOpened={reload} />;
  const consent = wallet.consents.adMeasurement;
  const change = async (granted: boolean): Promise<void> => {
    setError('');
    try {
      await api('PUT', `${walletPath(personId)}/consents/ad-measurement`, { granted });
      await reload();
      // Announced once the page shows the change.
      setMessage(granted ? 'Thank you: your payments may count in anonymous ad measurement.' : 'Your payments no longer count in ad measurement.');
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <Page title="Privacy">
      <Card title="Ad measurement">
        <p>
          Advertisers only ever see aggregated, anonymous counts of purchases, never who bought.{' '}
          {consent.source === 'default' ? "This is your country's default; you have not chosen yet." : ''}
        </p>
        <Checkbox label="Let my payments count in anonymous ad measurement" checked={consent.granted} onChange={(event) => void change(event.target.checked)} />
      </Card>
      <Notice kind="success">{message}</Notice>
      <Notice kind="error">{error}</Notice>
    </Page>
  );
}
