import { useEffect, useState } from 'react';
import { api, errorText } from '../api';
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
 * A US account waiting for its micro-deposits: the person types the code starting with SM from the
 * deposit's description on their statement; the wallet asks the PSP. A wrong code may be tried again.
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
  const [code, setCode] = useState('');
  return (
    <Form
      onSubmit={() =>
        save('Bank account verified: it can pay now.', () => api('POST', path, { descriptorCode: code.trim().toUpperCase() }).then(() => setCode('')))
      }
      label={`Verify ${label}`}
    >
      <Field
        label="Code from the deposit"
        value={code}
        onChange={(event) => setCode(event.target.value)}
        autoComplete="off"
        maxLength={6}
        hint="The 6 characters starting with SM in the description of the small deposit on your statement."
      />
      <Button type="submit" disabled={code.trim().length !== 6}>
        Verify
      </Button>
    </Form>
  );
}
