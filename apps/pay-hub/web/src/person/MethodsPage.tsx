import { useEffect, useState } from 'react';
import type { BankAccountUnusableReason, PaymentMethod } from '../api';
import { api, errorText } from '../api';
import { Button, Card, Checkbox, Field, Form, Notice, Page } from '../components';
import { AddCard } from './AddCard';
import { AddUsBankAccount, LinkUsBankAccount, VerifyMicrodeposits } from './AddUsBankAccount';
import { ConnectPayPal } from './ConnectPayPal';
import { OpenWallet, useWallet, walletPath } from './useWallet';

/** Why a bank account cannot pay, in the person's words: what their bank said, and what to do. */
const UNUSABLE_BECAUSE: Record<BankAccountUnusableReason, string> = {
  account_closed: 'your bank says this account is closed',
  no_account: 'your bank found no account with these details',
  invalid_account_number: 'your bank says the account number is not valid',
  debit_not_authorized: 'your bank says you did not authorise debits from it (the mandate was revoked or disputed)',
  account_frozen: 'your bank has frozen this account',
  bank_account_restricted: 'your bank does not allow debits from this account',
  bank_ownership_changed: 'your bank says the account changed owner',
};

/** The sentence shown for an unusable bank account. */
function unusableText(reason: BankAccountUnusableReason): string {
  return `Cannot pay: ${UNUSABLE_BECAUSE[reason] ?? 'your bank refused a debit from it for good'}. Save it again (a new mandate) once your bank can debit it, or add another account.`;
}

function describe(method: PaymentMethod): string {
  switch (method.kind) {
    case 'card':
      return `${method.brand ?? 'card'} •••• ${method.last4 ?? ''}${method.expMonth ? `, expires ${method.expMonth}/${method.expYear}` : ''}`;
    case 'paypal':
      return `PayPal ${method.email ?? ''}`;
    case 'bank_account':
      return `Bank account •••• ${method.last4 ?? ''}${
        method.needsResaving
          ? ', saved before debits needed what it lacks (a mandate, or the holder e-mail): it cannot pay; remove it and add it again'
          : method.verification === 'pending'
            ? ', waiting for its micro-deposits to be confirmed'
            : method.verification === 'failed'
              ? ', could not be verified: remove it and add it again'
              : ''
      }`;
    default:
      return method.kind;
  }
}

const EMPTY_BANK_ACCOUNT = { iban: '', holderName: '', holderEmail: '', bic: '', label: '', mandateAccepted: false };

export function MethodsPage({ personId }: { personId: string }) {
  const { wallet, error: loadError, reload } = useWallet(personId);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [renaming, setRenaming] = useState<{ id: string; label: string } | undefined>();
  const [bank, setBank] = useState(EMPTY_BANK_ACCOUNT);
  // The debit mandate, as the hub has it: shown before a bank account is saved, its version sent back with the acceptance.
  const [mandate, setMandate] = useState<{ textVersion: string; text: string } | undefined>();
  useEffect(() => {
    api<{ textVersion: string; text: string }>('GET', '/bff/bank-mandate').then(setMandate, (failure: unknown) => setError(errorText(failure)));
  }, []);

  const run = async (what: string, change: () => Promise<unknown>): Promise<void> => {
    setError('');
    setMessage('');
    try {
      await change();
      await reload();
      // Announced once the page shows the change.
      setMessage(what);
    } catch (failure) {
      setError(errorText(failure));
      // A refusal may still have changed the method (the PSP ended a verification after too many tries): show it as it is.
      await reload();
    }
  };
  const methods = `${walletPath(personId)}/payment-methods`;
  const optionalLabel = (text: string) => (text.trim() ? { label: text.trim() } : {});

  if (loadError) return <Notice kind="error">{loadError}</Notice>;
  if (wallet === undefined) return <p role="status">Loading…</p>;
  if (wallet === null) return <OpenWallet title="Payment methods" personId={personId} onOpened={reload} />;
  const active = wallet.paymentMethods.filter((method) => method.status === 'active');

  return (
    <Page title="Payment methods">
      <Notice kind="success">{message}</Notice>
      <Notice kind="error">{error}</Notice>
      <Card title="Saved methods">
        {active.length === 0 ? (
          <p>No saved methods yet.</p>
        ) : (
          <ul className="methods">
            {active.map((method) => (
              <li key={method.id} data-method-id={method.id}>
                <strong>{method.label}</strong> — {describe(method)} {method.preferred && !method.unusableReason && <span className="badge">Preferred</span>}
                {method.verification === 'verified' && !method.unusableReason && <span className="badge">Verified</span>}
                {method.unusableReason && (
                  <p className="method-unusable" role="note" aria-label={`${method.label} cannot pay`}>
                    {unusableText(method.unusableReason)}
                  </p>
                )}
                {method.verification === 'pending' && <VerifyMicrodeposits label={method.label} path={`${methods}/${method.id}/microdeposits`} save={run} />}
                <div>
                  {renaming?.id === method.id ? (
                    <Form
                      onSubmit={() =>
                        run('Renamed.', () => api('PATCH', `${methods}/${method.id}`, { label: renaming.label }).then(() => setRenaming(undefined)))
                      }
                      label={`Rename ${method.label}`}
                    >
                      <Field
                        label="New name"
                        value={renaming.label}
                        onChange={(event) => setRenaming({ id: method.id, label: event.target.value })}
                        maxLength={40}
                      />
                      <Button type="submit">Save name</Button>
                      <Button variant="secondary" onClick={() => setRenaming(undefined)}>
                        Cancel
                      </Button>
                    </Form>
                  ) : (
                    <Button variant="secondary" onClick={() => setRenaming({ id: method.id, label: method.label })} aria-label={`Rename ${method.label}`}>
                      Rename
                    </Button>
                  )}
                  {!method.preferred && !method.unusableReason && (
                    <Button
                      variant="secondary"
                      onClick={() => void run('Preferred method chosen.', () => api('PUT', `${methods}/${method.id}/preferred`, {}))}
                      aria-label={`Make ${method.label} preferred`}
                    >
                      Make preferred
                    </Button>
                  )}
                  <Button
                    variant="danger"
                    onClick={() => void run('Method removed.', () => api('DELETE', `${methods}/${method.id}`))}
                    aria-label={`Remove ${method.label}`}
                  >
                    Remove
                  </Button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title="Add a card">
        <p className="hint">You type the card number into the payment provider's own form below; Pay receives only its token.</p>
        <AddCard save={run} />
      </Card>
      <Card title="Add a PayPal account">
        <ConnectPayPal save={run} />
      </Card>
      <Card title="Add a bank account">
        <Form
          onSubmit={() =>
            run('Bank account saved.', () =>
              api('POST', '/bff/bank-accounts', {
                iban: bank.iban.trim(),
                holderName: bank.holderName.trim(),
                holderEmail: bank.holderEmail.trim(),
                ...(bank.bic.trim() ? { bic: bank.bic.trim() } : {}),
                ...optionalLabel(bank.label),
                mandateTextVersion: mandate?.textVersion ?? '',
                mandateAccepted: bank.mandateAccepted,
              }).then(() => setBank(EMPTY_BANK_ACCOUNT)),
            )
          }
          label="Add a bank account"
        >
          <div className="row">
            <Field label="IBAN" value={bank.iban} onChange={(event) => setBank({ ...bank, iban: event.target.value })} autoComplete="off" />
            <Field
              label="Account holder"
              value={bank.holderName}
              onChange={(event) => setBank({ ...bank, holderName: event.target.value })}
              autoComplete="name"
            />
            <Field
              label="Holder's e-mail address"
              type="email"
              value={bank.holderEmail}
              onChange={(event) => setBank({ ...bank, holderEmail: event.target.value })}
              autoComplete="email"
              maxLength={254}
              required
              hint="SEPA Direct Debit requires it: the payment provider sends the debit notices there. Pay does not keep it."
            />
            <Field label="BIC (optional)" value={bank.bic} onChange={(event) => setBank({ ...bank, bic: event.target.value })} />
            <Field label="Name (optional)" value={bank.label} onChange={(event) => setBank({ ...bank, label: event.target.value })} maxLength={40} />
          </div>
          <section aria-label="Direct debit mandate" className="mandate">
            <h3>Direct debit mandate</h3>
            <p data-mandate-version={mandate?.textVersion}>{mandate ? mandate.text : 'Loading the mandate…'}</p>
            <Checkbox
              label="I accept this direct debit mandate"
              checked={bank.mandateAccepted}
              onChange={(event) => setBank({ ...bank, mandateAccepted: event.target.checked })}
              required
            />
          </section>
          <Button type="submit" disabled={!mandate || !bank.mandateAccepted}>
            Save bank account
          </Button>
        </Form>
      </Card>
      <Card title="Add a US bank account">
        <p className="hint">
          Paid by ACH debit. Link it instantly by signing in at your bank, or type its numbers: then it is verified with a small deposit Stripe sends to it
          before it can pay.
        </p>
        <LinkUsBankAccount save={run} />
        <AddUsBankAccount save={run} />
      </Card>
    </Page>
  );
}
