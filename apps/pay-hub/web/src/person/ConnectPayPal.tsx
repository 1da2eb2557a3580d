import { useEffect, useRef, useState } from 'react';
import { api, ApiError, errorText } from '../api';
import { Button, Notice } from '../components';

/**
 * Saving a PayPal account through PayPal's approval: the hub opens a setup token, the person goes
 * to PayPal's page (the simulator's in development) to sign in and agree, and comes back here
 * with `?paypal=approved&approval_token_id=…`; the hub then vaults the account and saves it as
 * PayPal names it (payer id, e-mail). Nothing about the account is typed into this page.
 */
export function ConnectPayPal({ save }: { save: (what: string, change: () => Promise<unknown>) => Promise<void> }) {
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const returned = useRef(false);

  // Back from PayPal: the query names the approval once; the address bar is cleaned at once.
  useEffect(() => {
    if (returned.current) return;
    returned.current = true;
    const query = new URLSearchParams(window.location.search);
    const outcome = query.get('paypal');
    if (!outcome) return;
    window.history.replaceState(null, '', window.location.pathname);
    const token = query.get('approval_token_id');
    if (outcome === 'approved' && token) void save('PayPal account saved.', () => api('POST', `/bff/paypal-setups/${encodeURIComponent(token)}/account`, {}));
    else setNotice('PayPal was not connected: you cancelled at PayPal.');
  }, [save]);

  const connect = async (): Promise<void> => {
    setError('');
    try {
      const { approveUrl } = await api<{ approveUrl: string }>('POST', '/bff/paypal-setups', {});
      window.location.assign(approveUrl);
    } catch (failure) {
      setError(failure instanceof ApiError && failure.code === 'PAYPAL_SETUP_OFF' ? 'Adding a PayPal account is not available here.' : errorText(failure));
    }
  };

  return (
    <>
      <p className="hint">You sign in at PayPal and agree there; Pay receives PayPal's token for your account.</p>
      <Notice kind="info">{notice}</Notice>
      <Notice kind="error">{error}</Notice>
      <Button onClick={() => void connect()}>Connect PayPal</Button>
    </>
  );
}
