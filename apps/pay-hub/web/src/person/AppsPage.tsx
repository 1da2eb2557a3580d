import { useState } from 'react';
import { api, APPS, errorText } from '../api';
import { Card, Checkbox, Notice, Page } from '../components';
import { OpenWallet, useWallet, walletPath } from './useWallet';

/** Pay on or off per app; apps not live in the person's country cannot be turned on. */
export function AppsPage({ personId }: { personId: string }) {
  const { wallet, error: loadError, reload } = useWallet(personId);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  if (loadError) return <Notice kind="error">{loadError}</Notice>;
  if (wallet === undefined) return <p role="status">Loading…</p>;
  if (wallet === null) return <OpenWallet title="Pay in apps" personId={personId} onOpened={reload} />;

  const toggle = async (app: string, enabled: boolean): Promise<void> => {
    setError('');
    try {
      await api('PUT', `${walletPath(personId)}/apps/${app}`, { enabled });
      await reload();
      // Announced once the page shows the change.
      setMessage(`Pay is ${enabled ? 'on' : 'off'} in ${app}.`);
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <Page title="Pay in apps">
      <Card title="Where you use Pay">
        <fieldset>
          <legend>Pay is on in these apps</legend>
          {APPS.map((app) => {
            const available = wallet.availableApps.includes(app);
            return (
              <Checkbox
                key={app}
                label={available ? app : `${app} (not available in ${wallet.country} yet)`}
                checked={wallet.apps.includes(app)}
                disabled={!available && !wallet.apps.includes(app)}
                onChange={(event) => void toggle(app, event.target.checked)}
              />
            );
          })}
        </fieldset>
      </Card>
      <Notice kind="success">{message}</Notice>
      <Notice kind="error">{error}</Notice>
    </Page>
  );
}
