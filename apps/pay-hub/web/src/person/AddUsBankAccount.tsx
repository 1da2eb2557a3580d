import { useEffect, useRef, useState } from 'react';
import { api, ApiError, errorText } from '../api';
import { Button, Checkbox, Field, Form, Notice, Select } from '../components';

const EMPTY = { routingNumber: '', accountNumber: '', accountType: 'checking', holderName: '', label: '', mandateAccepted: false };

/**
 * A US bank account (ACH): routing and account number, holder and account type, under the ACH
 * debit authorisation the hub shows. The hub records the acceptance and the wallet sets the account
 * up at the PSP, which sends micro-deposits: the account waits for them (verified in the list
 * above) before it can pay. The numbers go in the request body only, never in the address.
 */
export function AddUsBankAccount({ save }: { save: (what: string, change: () => Promise<unknown>) => Promise<void> }) {
  const [account, setAccount] = useState(EMPTY);
  const [mandate, setMandate] = useState<{ textVersion: string; text: string } | undefined>();
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ textVersion: string; text: string }>('GET', '/bff/bank-mandate?scheme=us_bank_account').then(setMandate, (failure: unknown) =>
      setError(errorText(failure)),
    );
  }, []);

  return (
    <Form
      onSubmit={() =>
        save('US bank account saved: confirm the micro-deposits when they arrive.', () =>
          api('POST', '/bff/us-bank-accounts', {
            routingNumber: account.routingNumber.trim(),
            accountNumber: account.accountNumber.trim(),
            accountType: account.accountType,
            holderName: account.holderName.trim(),
            ...(account.label.trim() ? { label: account.label.trim() } : {}),
            mandateTextVersion: mandate?.textVersion ?? '',
            mandateAccepted: account.mandateAccepted,
          }).then(() => setAccount(EMPTY)),
        )
      }
      label="Add a US bank account"
    >
      <Notice kind="error">{error}</Notice>
      <div className="row">
        <Field
          label="Routing number"
          value={account.routingNumber}
          onChange={(event) => setAccount({ ...account, routingNumber: event.target.value })}
          inputMode="numeric"
          autoComplete="off"
          maxLength={9}
          hint="9 digits"
        />
        <Field
          label="Account number"
          value={account.accountNumber}
          onChange={(event) => setAccount({ ...account, accountNumber: event.target.value })}
          inputMode="numeric"
          autoComplete="off"
          maxLength={17}
        />
        <Select
          label="Account type"
          value={account.accountType}
          onChange={(event) => setAccount({ ...account, accountType: event.target.value })}
          options={[
            { value: 'checking', text: 'Checking' },
            { value: 'savings', text: 'Savings' },
          ]}
        />
        <Field
          label="Account holder"
          value={account.holderName}
          onChange={(event) => setAccount({ ...account, holderName: event.target.value })}
          autoComplete="name"
        />
        <Field label="Name (optional)" value={account.label} onChange={(event) => setAccount({ ...account, label: event.target.value })} maxLength={40} />
      </div>
      <section aria-label="ACH debit authorization" className="mandate">
        <h3>ACH debit authorization</h3>
        <p data-mandate-version={mandate?.textVersion}>{mandate ? mandate.text : 'Loading the authorization…'}</p>
        <Checkbox
          label="I authorize these ACH debits"
          checked={account.mandateAccepted}
          onChange={(event) => setAccount({ ...account, mandateAccepted: event.target.checked })}
          required
        />
      </section>
      <Button type="submit" disabled={!mandate || !account.mandateAccepted}>
        Save US bank account
      </Button>
    </Form>
  );
}

/**
 * A micro-deposit as the statement shows it, `0.32`, `.32` or `$0.32`: its cents (1 to 99), or
 * undefined for anything else. Micro-deposits are under a dollar, so whole dollars are refused.
 */
export function microdepositCents(text: string): number | undefined {
  const match = /^\$?\s*0?[.,](\d{2})$/.exec(text.trim());
  const cents = match ? Number.parseInt(match[1], 10) : 0;
  return cents >= 1 ? cents : undefined;
}

/**
 * A US account waiting for its micro-deposits: the person types the code starting with SM from the
 * deposit's description on their statement, or the two small amounts (Stripe sends one or the
 * other); the wallet asks the PSP. A wrong answer may be tried again, until the PSP's limit.
 */
export function VerifyMicrodeposits({
  label,
  path,
  save,
}: {
  label: string;
  path: string;
  save: (what: string, change: () => Promise<unknown>) => Promise<void>;
}) {
  // The PSP sends either one deposit whose description holds a code, or two small deposits; the person says which they see.
  const [shows, setShows] = useState<'code' | 'amounts'>('code');
  const [code, setCode] = useState('');
  const [amounts, setAmounts] = useState(['', '']);
  const cents = amounts.map(microdepositCents);
  const ready = shows === 'code' ? code.trim().length === 6 : cents.every((value) => value !== undefined);
  return (
    <Form
      onSubmit={() =>
        save('Bank account verified: it can pay now.', () =>
          api('POST', path, shows === 'code' ? { descriptorCode: code.trim().toUpperCase() } : { amounts: cents }).then(() => {
            setCode('');
            setAmounts(['', '']);
          }),
        )
      }
      label={`Verify ${label}`}
    >
      <Select
        label="Your statement shows"
        value={shows}
        onChange={(event) => setShows(event.target.value === 'amounts' ? 'amounts' : 'code')}
        options={[
          { value: 'code', text: 'One deposit with a code (SM…)' },
          { value: 'amounts', text: 'Two small deposits' },
        ]}
      />
      {shows === 'code' ? (
        <Field
          label="Code from the deposit"
          value={code}
          onChange={(event) => setCode(event.target.value)}
          autoComplete="off"
          maxLength={6}
          hint="The 6 characters starting with SM in the description of the small deposit on your statement."
        />
      ) : (
        <div className="row">
          {(['First deposit', 'Second deposit'] as const).map((name, index) => (
            <Field
              key={name}
              label={name}
              value={amounts[index]}
              onChange={(event) => setAmounts(amounts.map((amount, i) => (i === index ? event.target.value : amount)))}
              autoComplete="off"
              inputMode="decimal"
              maxLength={6}
              placeholder="0.00"
            />
          ))}
          <p className="hint">The two small deposits, each as on your statement (under a dollar, e.g. 0.32).</p>
        </div>
      )}
      <Button type="submit" disabled={!ready}>
        Verify
      </Button>
    </Form>
  );
}

interface BankConnection {
  sessionId: string;
  clientSecret: string;
  elementUrl: string;
}
interface LinkedAccount {
  id: string;
  institution_name: string;
  display_name: string;
  last4: string;
}
/** What the PSP's Financial Connections flow tells the page: never the account's numbers, only what was linked. */
type FlowMessage =
  | { source: 'psp-financial-connections'; type: 'ready' }
  | {
      source: 'psp-financial-connections';
      type: 'result';
      session?: { id: string; accounts: LinkedAccount[] };
      cancelled?: boolean;
      error?: { code: string; message: string };
    };

/**
 * Instant verification instead of micro-deposits (Financial Connections): the hub opens a session,
 * the page frames the PSP's flow (its own origin) where the person signs in at their bank and picks
 * the account; then, under the ACH authorisation, the wallet saves the linked account verified.
 */
export function LinkUsBankAccount({ save }: { save: (what: string, change: () => Promise<unknown>) => Promise<void> }) {
  const [connection, setConnection] = useState<BankConnection | undefined>();
  const [linked, setLinked] = useState<LinkedAccount | undefined>();
  const [details, setDetails] = useState({ holderName: '', label: '', mandateAccepted: false });
  const [mandate, setMandate] = useState<{ textVersion: string; text: string } | undefined>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const frame = useRef<HTMLIFrameElement>(null);
  const flowOrigin = connection ? new URL(connection.elementUrl).origin : undefined;

  const begin = async (): Promise<void> => {
    setError('');
    setNotice('');
    try {
      const [opened, shown] = await Promise.all([
        api<BankConnection>('POST', '/bff/bank-connections', {}),
        api<{ textVersion: string; text: string }>('GET', '/bff/bank-mandate?scheme=us_bank_account'),
      ]);
      setMandate(shown);
      setConnection(opened);
      setLinked(undefined);
    } catch (failure) {
      setError(failure instanceof ApiError && failure.code === 'BANK_CONNECTION_OFF' ? 'Linking a bank account is not available here.' : errorText(failure));
    }
  };

  useEffect(() => {
    if (!connection || !flowOrigin) return;
    const onMessage = (event: MessageEvent<FlowMessage>): void => {
      // Only the flow this page framed speaks here.
      if (event.origin !== flowOrigin || event.source !== frame.current?.contentWindow || event.data?.source !== 'psp-financial-connections') return;
      const message = event.data;
      if (message.type === 'ready') frame.current?.contentWindow?.postMessage({ type: 'collect', clientSecret: connection.clientSecret }, flowOrigin);
      else if (message.cancelled) {
        setConnection(undefined);
        setNotice('No account was linked: you cancelled at your bank.');
      } else if (message.error) setError(message.error.message);
      else if (message.session?.accounts[0]) setLinked(message.session.accounts[0]);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, [connection, flowOrigin]);

  if (!connection) {
    return (
      <>
        <Notice kind="error">{error}</Notice>
        <Notice kind="info">{notice}</Notice>
        <Button onClick={() => void begin()}>Link instantly at your bank</Button>
      </>
    );
  }
  if (!linked) {
    return (
      <>
        <iframe ref={frame} src={connection.elementUrl} title="Your bank, signed in at the payment provider" className="card-element bank-connection" />
        <Notice kind="error">{error}</Notice>
        <Button variant="secondary" onClick={() => setConnection(undefined)}>
          Cancel
        </Button>
      </>
    );
  }
  return (
    <Form
      onSubmit={() =>
        save('Bank account linked and verified: it can pay now.', () =>
          api('POST', `/bff/bank-connections/${encodeURIComponent(connection.sessionId)}/account`, {
            holderName: details.holderName.trim(),
            ...(details.label.trim() ? { label: details.label.trim() } : {}),
            mandateTextVersion: mandate?.textVersion ?? '',
            mandateAccepted: details.mandateAccepted,
          }).then(() => {
            setConnection(undefined);
            setDetails({ holderName: '', label: '', mandateAccepted: false });
          }),
        )
      }
      label="Save the linked bank account"
    >
      <p role="status">
        Linked: {linked.institution_name}, {linked.display_name} •••• {linked.last4}
      </p>
      <div className="row">
        <Field
          label="Account holder"
          value={details.holderName}
          onChange={(event) => setDetails({ ...details, holderName: event.target.value })}
          autoComplete="name"
        />
        <Field label="Name (optional)" value={details.label} onChange={(event) => setDetails({ ...details, label: event.target.value })} maxLength={40} />
      </div>
      <section aria-label="ACH debit authorization for the linked account" className="mandate">
        <h3>ACH debit authorization</h3>
        <p data-mandate-version={mandate?.textVersion}>{mandate?.text}</p>
        <Checkbox
          label="I authorize these ACH debits"
          checked={details.mandateAccepted}
          onChange={(event) => setDetails({ ...details, mandateAccepted: event.target.checked })}
          required
        />
      </section>
      <Notice kind="error">{error}</Notice>
      <Button type="submit" disabled={!mandate || !details.mandateAccepted}>
        Save linked account
      </Button>
    </Form>
  );
}
