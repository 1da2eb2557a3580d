/**
 * The simulator remembers what Stripe remembers across a restart of its own: a client that
 * retries an in-flight request with its idempotency key after the simulator came back gets the
 * first answer (no second charge), and objects created before the restart can still be
 * captured, refunded and read. Once in-process (a new simulator on the same file; `close`
 * writes nothing, so the file holds only what was written before each answer), once as the
 * built process killed with SIGKILL. PayPal's side (orders, captures, refunds, vault tokens,
 * PayPal-Request-Ids) is kept in the same file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PspSimulator } from '../psp-simulator';
import { PAYPAL_SIMULATOR_DEFAULTS } from '../paypal/paypal-simulator';
import { startPspSimulator } from '../psp-simulator';

const KEY = { authorization: 'Bearer sk_test_restart', 'content-type': 'application/x-www-form-urlencoded' };
const MAIN = resolve(__dirname, '../../../../dist/simulators/psp/src/main.js');

interface Answer {
  status: number;
  replayed: boolean;
  body: { id: string; status: string; amount: number; amount_received: number; latest_charge: string; error?: { type: string; message: string } };
}

async function call(baseUrl: string, method: 'GET' | 'POST', path: string, form?: Record<string, string>, idempotencyKey?: string): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...KEY, ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
  return { status: response.status, replayed: response.headers.get('idempotent-replayed') === 'true', body: (await response.json()) as Answer['body'] };
}

const manualIntent = {
  amount: '2500',
  currency: 'eur',
  payment_method: 'pm_card_visa',
  confirm: 'true',
  capture_method: 'manual',
  'metadata[paymentId]': 'p-1',
};

let dir: string;
let simulator: PspSimulator | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'psp-simulator-state-'));
});

afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('PSP simulator state across restarts', () => {
  it('replays an idempotency key, captures an authorisation and reads a refund made before the restart', async () => {
    const stateFile = join(dir, 'state.jsonl');
    simulator = await startPspSimulator({ stateFile });
    const created = await call(simulator.url, 'POST', '/v1/payment_intents', manualIntent, 'p-1:authorize');
    expect(created).toMatchObject({ status: 200, body: { status: 'requires_capture' } });
    const paid = await call(
      simulator.url,
      'POST',
      '/v1/payment_intents',
      { ...manualIntent, capture_method: 'automatic', 'metadata[paymentId]': 'p-2' },
      'p-2:authorize',
    );
    const refund = await call(simulator.url, 'POST', '/v1/refunds', { payment_intent: paid.body.id, amount: '1000' }, 'p-2:refund:r-1');
    expect(refund.status).toBe(200);
    await simulator.close();

    simulator = await startPspSimulator({ stateFile });
    const retried = await call(simulator.url, 'POST', '/v1/payment_intents', manualIntent, 'p-1:authorize');
    expect(retried).toMatchObject({ status: 200, replayed: true, body: { id: created.body.id, status: 'requires_capture' } });
    expect(simulator.chargesFor(created.body.id)).toHaveLength(1);
    expect(simulator.snapshot().paymentIntents).toHaveLength(2);

    // The same key with other parameters is still a conflict: the key, not only the answer, was kept.
    const changed = await call(simulator.url, 'POST', '/v1/payment_intents', { ...manualIntent, amount: '2600' }, 'p-1:authorize');
    expect(changed).toMatchObject({ status: 400, body: { error: { type: 'idempotency_error' } } });

    const captured = await call(simulator.url, 'POST', `/v1/payment_intents/${created.body.id}/capture`, {}, 'p-1:capture');
    expect(captured).toMatchObject({ status: 200, body: { status: 'succeeded', amount_received: 2500 } });
    expect(await call(simulator.url, 'GET', `/v1/refunds/${refund.body.id}`)).toMatchObject({ status: 200, body: { id: refund.body.id, status: 'succeeded' } });
    // What is left of the refunded charge is what the journal says: 1500 more, not 2500.
    expect(await call(simulator.url, 'POST', '/v1/refunds', { payment_intent: paid.body.id, amount: '1600' }, 'p-2:refund:r-2')).toMatchObject({ status: 400 });

    // A reset is kept too: the next start is empty.
    simulator.reset();
    await simulator.close();
    simulator = await startPspSimulator({ stateFile });
    expect(simulator.snapshot().paymentIntents).toHaveLength(0);
    const fresh = await call(simulator.url, 'POST', '/v1/payment_intents', manualIntent, 'p-1:authorize');
    expect(fresh.replayed).toBe(false);
    expect(fresh.body.id).not.toBe(created.body.id);
  });

  it("keeps PayPal's side too: a PayPal-Request-Id retried after the restart replays its order, captures once; an alias and a pending capture survive", async () => {
    const stateFile = join(dir, 'state.jsonl');
    const paypal = async (baseUrl: string, method: 'GET' | 'POST', path: string, body?: unknown, requestId?: string) => {
      const auth = Buffer.from(`${PAYPAL_SIMULATOR_DEFAULTS.clientId}:${PAYPAL_SIMULATOR_DEFAULTS.clientSecret}`).toString('base64');
      const token = (await (
        await fetch(`${baseUrl}/v1/oauth2/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${auth}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        })
      ).json()) as { access_token: string };
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token.access_token}`,
          'content-type': 'application/json',
          ...(requestId ? { 'paypal-request-id': requestId } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return {
        status: response.status,
        body: (await response.json()) as { id: string; status: string; purchase_units?: { payments?: { captures?: { id: string; status: string }[] } }[] },
      };
    };
    const order = (vaultId: string) => ({
      intent: 'CAPTURE',
      purchase_units: [{ amount: { currency_code: 'EUR', value: '12.50' }, custom_id: 'p-9' }],
      payment_source: { paypal: { vault_id: vaultId } },
    });

    simulator = await startPspSimulator({ stateFile });
    const created = await paypal(simulator.url, 'POST', '/v2/checkout/orders', order('vault_paypal_ok'), 'p-9:authorize');
    expect(created).toMatchObject({ status: 201, body: { status: 'COMPLETED' } });
    simulator.paypal.alias('vault_saved_in_wallet', 'vault_paypal_pending');
    const pending = await paypal(simulator.url, 'POST', '/v2/checkout/orders', order('vault_saved_in_wallet'), 'p-10:authorize');
    const pendingCapture = pending.body.purchase_units?.[0].payments?.captures?.[0];
    expect(pendingCapture?.status).toBe('PENDING');
    await simulator.close();

    simulator = await startPspSimulator({ stateFile });
    const retried = await paypal(simulator.url, 'POST', '/v2/checkout/orders', order('vault_paypal_ok'), 'p-9:authorize');
    expect(retried).toMatchObject({ status: 201, body: { id: created.body.id, status: 'COMPLETED' } });
    expect(simulator.paypal.capturesFor(created.body.id)).toHaveLength(1);
    expect(await paypal(simulator.url, 'GET', `/v2/checkout/orders/${created.body.id}`)).toMatchObject({ status: 200, body: { status: 'COMPLETED' } });
    // The same id with another body is still refused: the id, not only the answer, was kept.
    const reused = await paypal(simulator.url, 'POST', '/v2/checkout/orders', order('vault_paypal_declined'), 'p-9:authorize');
    expect(reused).toMatchObject({ status: 422 });
    expect(JSON.stringify(reused.body)).toContain('PAYPAL_REQUEST_ID_PREVIOUSLY_USED');
    // The alias made before the restart still decides how the saved vault id pays; the pending capture can still settle.
    const again = await paypal(simulator.url, 'POST', '/v2/checkout/orders', order('vault_saved_in_wallet'), 'p-11:authorize');
    expect(again.body.purchase_units?.[0].payments?.captures?.[0].status).toBe('PENDING');
    expect(simulator.paypal.completeCapture(pendingCapture?.id ?? '', 'COMPLETED').status).toBe('COMPLETED');
    await simulator.close();

    simulator = await startPspSimulator({ stateFile });
    expect(simulator.paypal.snapshot().captures.find((capture) => capture.id === pendingCapture?.id)?.status).toBe('COMPLETED');
  });

  it('the built process, killed with SIGKILL mid-flight and started again, answers the same key with the same intent', async () => {
    const stateFile = join(dir, 'state.jsonl');
    const start = async (): Promise<{ child: ChildProcess; url: string }> => {
      const child = spawn(process.execPath, [MAIN], {
        env: { ...process.env, PORT: '0', PSP_SIMULATOR_STATE_FILE: stateFile, PSP_SIMULATOR_WEBHOOK_URL: 'http://127.0.0.1:9/none' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // The address is known when the process prints it; it fails the test if it exits or stays silent.
      const url = await new Promise<string>((resolve, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`the simulator printed no address within 15 s: ${output}`)), 15_000);
        const read = (chunk: Buffer): void => {
          output += chunk.toString();
          const found = /listening on (http:\/\/\S+?),/.exec(output)?.[1];
          if (found) {
            clearTimeout(timer);
            resolve(found);
          }
        };
        child.stdout?.on('data', read);
        child.stderr?.on('data', read);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the simulator exited (${code}) before listening: ${output}`));
        });
      });
      return { child, url };
    };
    const killed = (child: ChildProcess): Promise<unknown> => new Promise((done) => child.once('exit', done));

    const first = await start();
    const created = await call(first.url, 'POST', '/v1/payment_intents', manualIntent, 'p-1:authorize');
    expect(created.status).toBe(200);
    const exit = killed(first.child);
    first.child.kill('SIGKILL');
    await exit;

    const second = await start();
    try {
      const retried = await call(second.url, 'POST', '/v1/payment_intents', manualIntent, 'p-1:authorize');
      expect(retried).toMatchObject({ status: 200, replayed: true, body: { id: created.body.id } });
      const captured = await call(second.url, 'POST', `/v1/payment_intents/${created.body.id}/capture`, {}, 'p-1:capture');
      expect(captured).toMatchObject({ status: 200, body: { status: 'succeeded', amount_received: 2500 } });
    } finally {
      const exited = killed(second.child);
      second.child.kill('SIGTERM');
      await exited;
    }
  });
});
