import { useEffect, useRef, useState } from 'react';
import { api, ApiError, errorText } from '../api';
import { Button, Field, Form, Notice } from '../components';

interface CardSetup {
  setupIntentId: string;
  clientSecret: string;
  elementUrl: string;
}

/** What the PSP's card element tells the page: never the card number, only whether it is complete and the outcome. */
type ElementMessage =
  | { source: 'psp-card-element'; type: 'ready' }
  | { source: 'psp-card-element'; type: 'change'; complete: boolean; brand: string }
  | { source: 'psp-card-element'; type: 'result'; setupIntent?: { id: string; status: string }; error?: { code: string; message: string } };

/**
 * Adding a card through the PSP's tokenisation: the hub opens a SetupIntent, the page frames the
 * PSP's card element (its own origin) where the person types the card, the element confirms the
 * SetupIntent with the PSP, and the hub saves the PaymentMethod the PSP made. The number is typed
 * into the PSP's frame only; this page and its requests never hold it.
 */
export function AddCard({ save }: { save: (what: string, change: () => Promise<unknown>) => Promise<void> }) {
  const [setup, setSetup] = useState<CardSetup | undefined>();
  const [state, setState] = useState<{ ready: boolean; complete: boolean; busy: boolean }>({ ready: false, complete: false, busy: false });
  const [label, setLabel] = useState('');
  const [error, setError] = useState('');
  const frame = useRef<HTMLIFrameElement>(null);
  const elementOrigin = setup ? new URL(setup.elementUrl).origin : undefined;

  const begin = async (): Promise<void> => {
    setError('');
    try {
      setSetup(await api<CardSetup>('POST', '/bff/card-setups', {}));
      setState({ ready: false, complete: false, busy: false });
    } catch (failure) {
      setError(failure instanceof ApiError && failure.code === 'CARD_SETUP_OFF' ? 'Adding a card is not available here.' : errorText(failure));
    }
  };

  useEffect(() => {
    if (!setup || !elementOrigin) return;
    const onMessage = (event: MessageEvent<ElementMessage>): void => {
      // Only the element this page framed speaks here.
      if (event.origin !== elementOrigin || event.source !== frame.current?.contentWindow || event.data?.source !== 'psp-card-element') return;
      const message = event.data;
      if (message.type === 'ready') setState((now) => ({ ...now, ready: true }));
      else if (message.type === 'change') setState((now) => ({ ...now, complete: message.complete }));
      else if (message.error) {
        setError(message.error.message);
        setState((now) => ({ ...now, busy: false }));
      } else if (message.setupIntent?.status === 'succeeded') {
        const text = label.trim();
        void save('Card saved.', () => api('POST', `/bff/card-setups/${encodeURIComponent(setup.setupIntentId)}/card`, text ? { label: text } : {})).then(
          () => {
            setSetup(undefined);
            setLabel('');
          },
        );
      }
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, [setup, elementOrigin, label, save]);

  const confirm = (): void => {
    if (!setup || !elementOrigin) return;
    setError('');
    setState((now) => ({ ...now, busy: true }));
    frame.current?.contentWindow?.postMessage({ type: 'confirm', clientSecret: setup.clientSecret }, elementOrigin);
  };

  if (!setup) {
    return (
      <>
        <Notice kind="error">{error}</Notice>
        <Button onClick={() => void begin()}>Enter a card</Button>
      </>
    );
  }
  return (
    <Form onSubmit={confirm} label="Add a card">
      <iframe ref={frame} src={setup.elementUrl} title="Card details, entered at the payment provider" className="card-element" />
      <Notice kind="error">{error}</Notice>
      <div className="row">
        <Field label="Name (optional)" value={label} onChange={(event) => setLabel(event.target.value)} maxLength={40} />
        <Button type="submit" disabled={!state.ready || !state.complete || state.busy}>
          Save card
        </Button>
        <Button variant="secondary" onClick={() => setSetup(undefined)}>
          Cancel
        </Button>
      </div>
    </Form>
  );
}
