import { useState } from 'react';
import type { Money } from '../api';
import { errorText, formatMoney } from '../api';
import { Button, Card, Field, Form, Notice } from '../components';
import type { StepUpProof } from './passkeys';
import { confirmWithPasskey, confirmWithPin } from './passkeys';

/** Step-up, as the apps ask for it above the threshold: the PIN or a passkey earns the same proof. */
export function ConfirmPayment({
  personId,
  amount,
  onConfirmed,
  onCancel,
}: {
  personId: string;
  amount: Money;
  onConfirmed: (proof: StepUpProof) => void;
  onCancel: () => void;
}) {
  const [pin, setPin] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const confirm = async (how: () => Promise<StepUpProof>): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      onConfirmed(await how());
    } catch (failure) {
      setError(failure instanceof DOMException ? `Your device did not confirm (${failure.name}). Try again or use your PIN.` : errorText(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={`Confirm ${formatMoney(amount)}`}>
      <p>This amount needs your confirmation.</p>
      <Button onClick={() => void confirm(() => confirmWithPasskey(personId, amount))} disabled={busy}>
        Confirm with a passkey
      </Button>
      <Form onSubmit={() => confirm(() => confirmWithPin(personId, pin, amount))} label="Confirm with your PIN">
        <div className="row">
          <Field
            label="PIN"
            type="password"
            inputMode="numeric"
            autoComplete="off"
            maxLength={6}
            value={pin}
            onChange={(event) => setPin(event.target.value)}
          />
          <Button type="submit" variant="secondary" disabled={busy || pin.length < 4}>
            Confirm with PIN
          </Button>
        </div>
      </Form>
      <Notice kind="error">{error}</Notice>
      <Button variant="secondary" onClick={onCancel}>
        Cancel
      </Button>
    </Card>
  );
}
