import { useEffect, useRef, useState } from 'react';
import { api, ApiError, errorText } from '../api';
import { Button, Field, Form, Notice } from '../components';
import type { StripeCardElement, StripeError, StripeJs, StripeJsSetting } from './stripe-js';
import { loadStripe } from './stripe-js';

/** What the page says when Stripe.js answers an error: the bank's refusal of 3-D Secure in the hub's words, else Stripe's message. */
function cardErrorText(error: StripeError): string {
  // Failed or closed challenge (Stripe.js answers both so): Stripe's own text asks for "a different payment method" and says nothing of the card.
  if (error.code === 'setup_intent_authentication_failure') return 'Your bank did not confirm this card, so it was not saved. Try again, or use another card.';
  return error.message ?? 'The card was not accepted: try another one.';
}

interface CardSetup {
  setupIntentId: string;
  clientSecret: string;
  stripeJs: StripeJsSetting;
}

/**
 * Tells the hub the person gave this setup up, so it is cancelled at the PSP and nothing completes it
 * later (docs/pay-hub.md, "Abandoned card setups"). `keepalive` lets it leave with a closing page; a
 * lost one is swept by the hub later, and one the PSP completed already is left as it is.
 */
function giveUp(setupIntentId: string): void {
  void fetch(`/bff/card-setups/${encodeURIComponent(setupIntentId)}/cancel`, {
    method: 'POST',
    credentials: 'same-origin',
    keepalive: true,
    headers: { accept: 'application/json', 'content-type': 'application/json', 'x-pay-hub': '1' },
    body: '{}',
  }).catch(() => undefined);
}

/**
 * Adding a card as Stripe.js has it done: the hub opens a SetupIntent, the page loads Stripe.js and
 * mounts its card Element (a frame of Stripe.js's origin) where the person types the card,
 * `confirmCardSetup` confirms the SetupIntent with the PSP, and the hub saves the PaymentMethod the
 * PSP made. The number is typed into Stripe.js's frame only; this page and its requests never hold it.
 */
export function AddCard({ save }: { save: (what: string, change: () => Promise<unknown>) => Promise<void> }) {
  const [setup, setSetup] = useState<{ card: CardSetup; stripe: StripeJs } | undefined>();
  const [state, setState] = useState<{ ready: boolean; complete: boolean; busy: boolean }>({ ready: false, complete: false, busy: false });
  const [label, setLabel] = useState('');
  const [error, setError] = useState('');
  /** Said after the form closed: a card given up while it was being confirmed was not saved. */
  const [notice, setNotice] = useState('');
  const field = useRef<HTMLDivElement>(null);
  const element = useRef<StripeCardElement | undefined>(undefined);
  /** The confirmation in flight; a cancelled one is forgotten, so whatever it answers later saves nothing. */
  const attempt = useRef<object | undefined>(undefined);
  /** The SetupIntent of the open form, given up if the person leaves the page with it open. */
  const open = useRef<string | undefined>(undefined);

  const begin = async (): Promise<void> => {
    setError('');
    setNotice('');
    try {
      const card = await api<CardSetup>('POST', '/bff/card-setups', {});
      const stripe = await loadStripe(card.stripeJs.url, card.stripeJs.publishableKey);
      setState({ ready: false, complete: false, busy: false });
      open.current = card.setupIntentId;
      setSetup({ card, stripe });
    } catch (failure) {
      setError(
        failure instanceof ApiError
          ? failure.code === 'CARD_SETUP_OFF'
            ? 'Adding a card is not available here.'
            : errorText(failure)
          : 'The payment provider cannot be reached: try again later.',
      );
    }
  };

  // Open until saved or cancelled: leaving the page (or closing it) with the form open gives the setup up.
  useEffect(() => {
    if (!setup) return;
    const id = setup.card.setupIntentId;
    const leave = (): void => giveUp(id);
    window.addEventListener('pagehide', leave);
    return () => window.removeEventListener('pagehide', leave);
  }, [setup]);
  useEffect(
    () => () => {
      if (open.current) giveUp(open.current);
    },
    [],
  );

  useEffect(() => {
    if (!setup || !field.current) return;
    const card = setup.stripe.elements().create('card', { hidePostalCode: true });
    card.on('ready', () => setState((now) => ({ ...now, ready: true })));
    card.on('change', (event) => {
      setState((now) => ({ ...now, complete: event.complete }));
      setError(event.error?.message ?? '');
    });
    card.mount(field.current);
    element.current = card;
    return () => {
      element.current = undefined;
      card.destroy();
    };
  }, [setup]);

  const confirm = async (): Promise<void> => {
    if (!setup || !element.current) return;
    setError('');
    setState((now) => ({ ...now, busy: true }));
    const mine = {};
    attempt.current = mine;
    const result = await setup.stripe
      .confirmCardSetup(setup.card.clientSecret, { payment_method: { card: element.current } })
      // Stripe.js throws only on misuse (an IntegrationError): say so rather than hang busy.
      .catch(() => ({ error: { type: 'integration_error', message: 'The card form failed: cancel and enter the card again.' } }) as const);
    // Cancelled while the provider or the bank was answering: the person gave the card up, it is not saved.
    if (attempt.current !== mine) return;
    attempt.current = undefined;
    if (result.error) {
      setError(cardErrorText(result.error));
      setState((now) => ({ ...now, busy: false }));
      return;
    }
    if (result.setupIntent.status !== 'succeeded') {
      setError('The card could not be confirmed: try another one.');
      setState((now) => ({ ...now, busy: false }));
      return;
    }
    // Confirmed at the PSP: nothing left to give up (the page may unmount this form while it saves).
    open.current = undefined;
    const text = label.trim();
    await save('Card saved.', () => api('POST', `/bff/card-setups/${encodeURIComponent(setup.card.setupIntentId)}/card`, text ? { label: text } : {}));
    setSetup(undefined);
    setLabel('');
  };

  const cancel = (): void => {
    if (attempt.current) setNotice('The card was not saved.');
    if (setup) giveUp(setup.card.setupIntentId);
    open.current = undefined;
    attempt.current = undefined;
    setError('');
    setSetup(undefined);
  };

  if (!setup) {
    return (
      <>
        <Notice kind="info">{notice}</Notice>
        <Notice kind="error">{error}</Notice>
        <Button onClick={() => void begin()}>Enter a card</Button>
      </>
    );
  }
  return (
    <Form onSubmit={confirm} label="Add a card">
      {/* Stripe.js mounts its card Element (its own frame) here. */}
      <div ref={field} className="card-field" />
      {/* Stripe.js may open the bank's 3-D Secure challenge before it answers: say why the page waits. */}
      <Notice kind="info">
        {state.busy ? 'Confirming the card with the payment provider. If your bank asks you to confirm this card, answer it to go on.' : ''}
      </Notice>
      <Notice kind="error">{error}</Notice>
      <div className="row">
        <Field label="Name (optional)" value={label} onChange={(event) => setLabel(event.target.value)} maxLength={40} />
        <Button type="submit" disabled={!state.ready || !state.complete || state.busy}>
          Save card
        </Button>
        <Button variant="secondary" onClick={cancel}>
          Cancel
        </Button>
      </div>
    </Form>
  );
}
