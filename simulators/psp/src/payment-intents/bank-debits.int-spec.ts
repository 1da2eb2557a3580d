/**
 * Bank debits in the simulator: `processing` at once, answered by the bank after the debit delay
 * in simulated time (a test moves the clock: "3 days later" takes no time), settled or failed
 * late with Stripe's webhooks; a debit in flight survives a restart of the simulator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PspSimulator } from '../psp-simulator';
import { startPspSimulator } from '../psp-simulator';
import type { WebhookReceiver } from '../webhooks/webhook-receiver';
import { startWebhookReceiver } from '../webhooks/webhook-receiver';

const DAY = 24 * 60 * 60 * 1000;
const KEY = { authorization: 'Bearer sk_test_debits', 'content-type': 'application/x-www-form-urlencoded' };

interface Intent {
  id: string;
  status: string;
  payment_method_types: string[];
  amount_received: number;
  last_payment_error: { code: string } | null;
}

let dir: string;
let receiver: WebhookReceiver;
let simulator: PspSimulator | undefined;

async function debit(paymentMethod: string, key: string): Promise<Intent> {
  const response = await fetch(`${simulator!.url}/v1/payment_intents`, {
    method: 'POST',
    headers: { ...KEY, 'idempotency-key': key },
    body: new URLSearchParams({
      amount: '4200',
      currency: 'eur',
      payment_method: paymentMethod,
      confirm: 'true',
      'payment_method_types[]': 'sepa_debit',
    }).toString(),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Intent;
}

async function control(path: string, body: object): Promise<{ status: number; body: { answered: string[]; error?: { message: string } } }> {
  const response = await fetch(`${simulator!.url}/__control/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { answered: string[] } };
}

const intentNow = (id: string): Intent => simulator!.snapshot().paymentIntents.find((intent) => intent.id === id) as unknown as Intent;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver?.close();
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'psp-simulator-debits-'));
  receiver.clear();
});

afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('PSP simulator: bank debits', () => {
  it('keeps a debit processing until 3 simulated days passed, across a restart, then fails it late with its webhook', async () => {
    const stateFile = join(dir, 'state.jsonl');
    simulator = await startPspSimulator({ stateFile, webhookUrl: receiver.url });
    const created = await debit('pm_sepaDebit_fails', 'pay-d1:authorize');
    expect(created).toMatchObject({ status: 'processing', payment_method_types: ['sepa_debit'] });

    expect((await control('clock/advance', { days: 2 })).body.answered).toEqual([]);
    expect(intentNow(created.id).status).toBe('processing');
    await simulator.webhooks.idle();
    await simulator.close();

    simulator = await startPspSimulator({ stateFile, webhookUrl: receiver.url });
    expect(simulator.snapshot().clock.aheadMs).toBe(2 * DAY);
    expect((await control('clock/advance', { days: 1 })).body.answered).toEqual([created.id]);
    expect(intentNow(created.id)).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: 'insufficient_funds' } });
    await simulator.webhooks.idle();
    const types = receiver.received.map((delivery) => delivery.type);
    expect(types).toEqual(['payment_intent.created', 'payment_intent.processing', 'payment_intent.payment_failed']);
    // Answered once: more days change nothing.
    expect((await control('clock/advance', { days: 5 })).body.answered).toEqual([]);
  });

  it('settles a debit when its time comes, or on command before', async () => {
    simulator = await startPspSimulator({ webhookUrl: receiver.url });
    const settling = await debit('pm_sepaDebit', 'pay-d2:authorize');
    const early = await debit('pm_usBankAccount', 'pay-d3:authorize');
    expect(early.payment_method_types).toEqual(['us_bank_account']);
    simulator.completePaymentIntent(early.id, 'succeeded');
    expect(simulator.advanceClock(3 * DAY)).toEqual([settling.id]);
    expect(intentNow(settling.id)).toMatchObject({ status: 'succeeded', amount_received: 4200 });
    expect(intentNow(early.id)).toMatchObject({ status: 'succeeded', amount_received: 4200 });
    expect(simulator.chargesFor(settling.id)).toMatchObject([{ status: 'succeeded', captured: true }]);
    expect((await control('clock/advance', { days: -1 })).status).toBe(400);
  });

  it("fails a debit with the bank's code: Stripe's test account's (account closed), or the one given on command", async () => {
    simulator = await startPspSimulator({ webhookUrl: receiver.url });
    const closed = await debit('pm_usBankAccount_accountClosed', 'pay-d4:authorize');
    const revoked = await debit('pm_sepaDebit', 'pay-d5:authorize');
    const unknownCode = await control(`payment_intents/${revoked.id}/complete`, { outcome: 'failed', code: 'lost_in_the_post' });
    expect(unknownCode.status).toBe(400);
    expect((await control(`payment_intents/${revoked.id}/complete`, { outcome: 'succeeded', code: 'account_closed' })).status).toBe(400);
    expect((await control(`payment_intents/${revoked.id}/complete`, { outcome: 'failed', code: 'debit_not_authorized' })).status).toBe(200);
    expect(intentNow(revoked.id)).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: 'debit_not_authorized' } });
    expect(simulator.advanceClock(3 * DAY)).toEqual([closed.id]);
    expect(intentNow(closed.id)).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: 'account_closed' } });
  });
});
