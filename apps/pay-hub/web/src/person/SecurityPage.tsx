import { useCallback, useEffect, useState } from 'react';
import type { Passkey } from '../api';
import { api, errorText } from '../api';
import { Button, Card, Field, Form, Notice, Page } from '../components';
import { registerPasskey } from './passkeys';
import { OpenWallet, useWallet, walletPath } from './useWallet';

/** A PIN entry: masked, digits on a phone's keypad, at most six. */
function PinField({
  label,
  hint,
  autoComplete,
  value,
  onChange,
}: {
  label: string;
  hint?: string;
  autoComplete: 'current-password' | 'new-password';
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <Field
      label={label}
      hint={hint}
      type="password"
      inputMode="numeric"
      autoComplete={autoComplete}
      maxLength={6}
      value={value}
      onChange={(event) => onChange(event.target.value)}
    />
  );
}

export function SecurityPage({ personId }: { personId: string }) {
  const { wallet, error: loadError, reload } = useWallet(personId);
  const [passkeys, setPasskeys] = useState<Passkey[] | undefined>();
  const [pin, setPin] = useState({ current: '', next: '', repeat: '' });
  const [deviceName, setDeviceName] = useState('');
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  const loadPasskeys = useCallback(async () => {
    try {
      setPasskeys(await api<Passkey[]>('GET', `${walletPath(personId)}/passkeys`));
    } catch (failure) {
      setError(errorText(failure));
    }
  }, [personId]);
  useEffect(() => {
    if (wallet) void loadPasskeys();
  }, [wallet, loadPasskeys]);

  if (loadError) return <Notice kind="error">{loadError}</Notice>;
  if (wallet === undefined) return <p role="status">Loading…</p>;
  if (wallet === null) return <OpenWallet title="PIN and passkeys" personId={personId} onOpened={reload} />;

  const run = async (done: string, change: () => Promise<unknown>): Promise<void> => {
    setError('');
    setMessage('');
    try {
      await change();
      await reload();
      await loadPasskeys();
      // Announced once the page shows the change.
      setMessage(done);
    } catch (failure) {
      setError(failure instanceof DOMException ? `Your device did not create or use the passkey (${failure.name}).` : errorText(failure));
    }
  };

  const savePin = (): Promise<void> => {
    if (pin.next !== pin.repeat) {
      setError('The two new PINs differ.');
      return Promise.resolve();
    }
    const request = wallet.pin.set
      ? () => api('PUT', `${walletPath(personId)}/pin`, { currentPin: pin.current, newPin: pin.next })
      : () => api('POST', `${walletPath(personId)}/pin`, { pin: pin.next });
    return run(wallet.pin.set ? 'PIN changed.' : 'PIN set.', async () => {
      await request();
      setPin({ current: '', next: '', repeat: '' });
    });
  };

  return (
    <Page title="PIN and passkeys">
      <Notice kind="success">{message}</Notice>
      <Notice kind="error">{error}</Notice>
      <Card title={wallet.pin.set ? 'Change your PIN' : 'Set a PIN'}>
        {wallet.pin.blocked && (
          <Notice kind="info">Your PIN is blocked after repeated wrong tries: support can unblock it once they have checked it is you.</Notice>
        )}
        {wallet.pin.lockedUntil && <Notice kind="info">Your PIN is locked until {new Date(wallet.pin.lockedUntil).toLocaleString()}.</Notice>}
        <Form onSubmit={savePin} label={wallet.pin.set ? 'Change your PIN' : 'Set a PIN'}>
          <div className="row">
            {wallet.pin.set && (
              <PinField label="Current PIN" autoComplete="current-password" value={pin.current} onChange={(current) => setPin({ ...pin, current })} />
            )}
            <PinField
              label="New PIN"
              hint="4 to 6 digits; not one digit repeated nor a run like 1234"
              autoComplete="new-password"
              value={pin.next}
              onChange={(next) => setPin({ ...pin, next })}
            />
            <PinField label="New PIN again" autoComplete="new-password" value={pin.repeat} onChange={(repeat) => setPin({ ...pin, repeat })} />
            <Button type="submit">{wallet.pin.set ? 'Change PIN' : 'Set PIN'}</Button>
          </div>
        </Form>
      </Card>
      <Card title="Passkeys">
        <p>A passkey confirms payments with your device's face or fingerprint recognition, or its screen lock, instead of the PIN.</p>
        {passkeys === undefined ? (
          <p role="status">Loading…</p>
        ) : passkeys.length === 0 ? (
          <p>No passkeys yet.</p>
        ) : (
          <ul>
            {passkeys.map((passkey) => (
              <li key={passkey.passkeyId}>
                <strong>{passkey.deviceName}</strong>, added {new Date(passkey.createdAt).toLocaleDateString()}
                {passkey.lastUsedAt ? `, last used ${new Date(passkey.lastUsedAt).toLocaleString()}` : ', never used'}{' '}
                <Button
                  variant="danger"
                  aria-label={`Remove passkey ${passkey.deviceName}`}
                  onClick={() => void run('Passkey removed.', () => api('DELETE', `${walletPath(personId)}/passkeys/${passkey.passkeyId}`))}
                >
                  Remove
                </Button>
              </li>
            ))}
          </ul>
        )}
        <Form onSubmit={() => run('Passkey added.', () => registerPasskey(personId, deviceName.trim()).then(() => setDeviceName('')))} label="Add a passkey">
          <div className="row">
            <Field
              label="Device name"
              hint="So you recognise it later, e.g. My phone"
              value={deviceName}
              onChange={(event) => setDeviceName(event.target.value)}
              maxLength={60}
            />
            <Button type="submit" disabled={deviceName.trim() === ''}>
              Add a passkey
            </Button>
          </div>
        </Form>
      </Card>
    </Page>
  );
}
