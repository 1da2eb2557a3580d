/**
 * Card setups nobody finished, against the PSP simulator (the real `stripe` SDK, the simulator's
 * SetupIntents) and PostgreSQL: the hub records each SetupIntent it opens, cancels one at the PSP
 * when its person gives it up, and sweeps the ones left open past HUB_CARD_SETUP_ABANDON_SECONDS,
 * never one the PSP completed meanwhile (a card saved from it stays saved). The sweep never polls:
 * idle, it holds no timer. The wallet is a stand-in that keeps what the hub asked it to save.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@pay/config';
import type { SchedulerClock } from '@pay/platform';
import type { PspSimulator } from '@pay/psp-simulator';
import { startPspSimulator } from '@pay/psp-simulator';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, waitFor } from '@pay/testing';
import { AbandonedCardSetups } from '../src/abandoned-card-setups';
import { CardSetups } from '../src/card-setups';
import { PayHubConfig } from '../src/config';
import { payHubMigrations } from '../src/database/migrations';
import type { RunningPayHub } from '../src/hub-server';
import { startPayHub } from '../src/hub-server';

const isTrue = (value: boolean): boolean => value;

/** Timers that fire only when the test moves the clock: what is armed is seen, and idle means none. */
function manualClock(start: number): SchedulerClock & { advance(ms: number): void; armed(): number } {
  let now = start;
  const timers = new Map<number, { at: number; run: () => void }>();
  let next = 0;
  return {
    now: () => now,
    setTimer: (run, ms) => {
      next += 1;
      timers.set(next, { at: now + ms, run });
      return next;
    },
    clearTimer: (timer) => void timers.delete(timer as number),
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.at > now) continue;
        timers.delete(id);
        timer.run();
      }
    },
    armed: () => timers.size,
  };
}

describe('card setups nobody finished', () => {
  let psp: PspSimulator;
  let database: TestSchema;
  let hub: RunningPayHub;
  let wallet: { server: Server; url: string };
  const saves: string[] = [];

  const config = (extra: Record<string, string> = {}) =>
    loadConfig('pay-hub', PayHubConfig, {
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: database.url,
      DB_SCHEMA: database.schema,
      WALLET_URL: wallet.url,
      HISTORY_URL: wallet.url,
      SUPPORT_URL: wallet.url,
      HUB_STATIC_DIR: '/nonexistent',
      HUB_SIGN_IN: 'development',
      HUB_DEV_SIGNING_JWK: '{"kty":"EC","d":"-"}',
      STRIPE_SECRET_KEY: 'sk_test_setups',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_setups',
      STRIPE_API_HOST: psp.host,
      STRIPE_API_PORT: String(psp.port),
      STRIPE_API_PROTOCOL: 'http',
      STRIPE_JS_URL: `${psp.url}/v3`,
      ...extra,
    });

  beforeAll(async () => {
    psp = await startPspSimulator();
    database = await createTestSchema('hub_card_setups', payHubMigrations, 2);
    wallet = await new Promise((done) => {
      const server = createServer((request: IncomingMessage, response: ServerResponse) => {
        saves.push(request.url!);
        request.resume();
        request.on('end', () => {
          response.statusCode = 201;
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify({ id: randomUUID() }));
        });
      });
      server.listen(0, '127.0.0.1', () => done({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
    });
    hub = await startPayHub({ config: config(), mintDevToken: async ({ sub, role }) => `dev-${role}-${sub}`, log: () => undefined });
  });

  afterAll(async () => {
    await hub?.close();
    wallet?.server.close();
    await database?.drop();
    await psp?.close();
  });

  const hubCall = (path: string, cookie: string, body: unknown = {}) =>
    fetch(`${hub.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-pay-hub': '1', cookie }, body: JSON.stringify(body) });
  const signIn = async (role: string, sub: string): Promise<string> =>
    (await hubCall('/bff/dev-sign-in', '', { role, sub })).headers.get('set-cookie')!.split(';')[0];
  const begin = async (cookie: string): Promise<{ setupIntentId: string; clientSecret: string }> => {
    const answer = await hubCall('/bff/card-setups', cookie);
    expect(answer.status).toBe(201);
    return (await answer.json()) as { setupIntentId: string; clientSecret: string };
  };
  /** What Stripe.js's card frame sends the PSP from the browser. */
  const confirmAtPsp = async (setup: { setupIntentId: string; clientSecret: string }, number: string): Promise<string> => {
    const answer = await fetch(`${psp.url}/v1/setup_intents/${setup.setupIntentId}/confirm`, {
      method: 'POST',
      body: new URLSearchParams({
        key: 'pk_test_setups',
        client_secret: setup.clientSecret,
        'payment_method_data[type]': 'card',
        'payment_method_data[card][number]': number,
        'payment_method_data[card][exp_month]': '12',
        'payment_method_data[card][exp_year]': '2034',
        'payment_method_data[card][cvc]': '123',
      }),
    });
    return ((await answer.json()) as { status: string }).status;
  };
  const atPsp = (id: string) => psp.snapshot().setupIntents.find((intent) => intent.id === id)!;
  const recorded = async (): Promise<string[]> =>
    (await hub.dataSource.query<Array<{ setup_intent_id: string }>>('SELECT setup_intent_id FROM card_setups ORDER BY created_at')).map(
      (row) => row.setup_intent_id,
    );

  it('cancels at the PSP the setup its person gives up, once, and no one else’s; one completed meanwhile is left and its card can be saved', async () => {
    const owner = await signIn('person', 'p-gives-up');
    const other = await signIn('person', 'p-other');
    const analyst = await signIn('analyst', 'a-1');
    const setup = await begin(owner);
    expect(await recorded()).toContain(setup.setupIntentId);

    // Another person, an analyst, an id that is not one: not found, and the PSP's SetupIntent is untouched.
    for (const cookie of [other, analyst]) expect((await hubCall(`/bff/card-setups/${setup.setupIntentId}/cancel`, cookie)).status).toBe(404);
    expect((await hubCall('/bff/card-setups/seti_nosuchsetup/cancel', owner)).status).toBe(404);
    expect((await hubCall('/bff/card-setups/not-an-id/cancel', owner)).status).toBe(404);
    expect(atPsp(setup.setupIntentId).status).toBe('requires_payment_method');

    const canceled = await hubCall(`/bff/card-setups/${setup.setupIntentId}/cancel`, owner);
    expect([canceled.status, await canceled.json()]).toEqual([200, { status: 'canceled' }]);
    expect(atPsp(setup.setupIntentId)).toMatchObject({ status: 'canceled', cancellation_reason: 'requested_by_customer' });
    expect(await recorded()).not.toContain(setup.setupIntentId);
    // Again (a page that sent it twice): the same answer, nothing else changes.
    expect((await hubCall(`/bff/card-setups/${setup.setupIntentId}/cancel`, owner)).status).toBe(200);
    // Nothing completes it afterwards: the card frame's confirmation is refused, and the hub saves nothing from it.
    expect(await confirmAtPsp(setup, '4242424242424242')).toBeUndefined();
    expect((await hubCall(`/bff/card-setups/${setup.setupIntentId}/card`, owner)).status).toBe(409);
    expect(saves).toEqual([]);

    // Completed at the PSP before the cancel arrived: not cancelled (409), and its card is saved as usual.
    const raced = await begin(owner);
    expect(await confirmAtPsp(raced, '4242424242424242')).toBe('succeeded');
    const late = await hubCall(`/bff/card-setups/${raced.setupIntentId}/cancel`, owner);
    expect([late.status, ((await late.json()) as { code: string }).code]).toEqual([409, 'CARD_SETUP_COMPLETED']);
    expect(atPsp(raced.setupIntentId).status).toBe('succeeded');
    expect((await hubCall(`/bff/card-setups/${raced.setupIntentId}/card`, owner)).status).toBe(201);
    expect(saves).toEqual(['/v1/wallets/p-gives-up/payment-methods/cards']);
    expect(await recorded()).not.toContain(raced.setupIntentId);
  });

  it('sweeps the setups left open past the abandon age, never one completed meanwhile, and sleeps without a timer once none is open', async () => {
    const person = await signIn('person', 'p-walks-away');
    const clock = manualClock(Date.now());
    const abandonAfterMs = 15 * 60_000;
    const lines: string[] = [];
    const sweeper = new AbandonedCardSetups(hub.dataSource, CardSetups.from(config())!, { abandonAfterMs, clock, log: (line) => lines.push(line) });
    await sweeper.start();
    expect(sweeper.sweeps).toBe(1);
    expect(clock.armed()).toBe(0);

    // Opened through the hub (whose own sweep waits an hour), then recorded again by this sweeper, on its clock.
    const reRecord = async (setup: { setupIntentId: string }): Promise<void> => {
      await hub.dataSource.query('DELETE FROM card_setups WHERE setup_intent_id = $1', [setup.setupIntentId]);
      await sweeper.opened(setup.setupIntentId, person);
    };
    const untouched = await begin(person);
    const challenged = await begin(person);
    const completed = await begin(person);
    const saved = await begin(person);
    const younger = await begin(person);
    await hub.dataSource.query('DELETE FROM card_setups WHERE setup_intent_id = $1', [younger.setupIntentId]);
    for (const setup of [untouched, challenged, completed, saved]) await reRecord(setup);
    expect(await confirmAtPsp(challenged, '4000002500003155')).toBe('requires_action');
    expect(await confirmAtPsp(completed, '4242424242424242')).toBe('succeeded');
    expect(await confirmAtPsp(saved, '5555555555554444')).toBe('succeeded');
    expect((await hubCall(`/bff/card-setups/${saved.setupIntentId}/card`, person)).status).toBe(201);
    const savesBefore = saves.length;
    clock.advance(5 * 60_000);
    await reRecord(younger);
    expect(clock.armed()).toBe(1);

    // Not before the abandon age.
    clock.advance(abandonAfterMs - 5 * 60_000 - 1);
    expect(sweeper.sweeps).toBe(1);
    clock.advance(1);
    await waitFor(() => atPsp(untouched.setupIntentId).status === 'canceled' && atPsp(challenged.setupIntentId).status === 'canceled', isTrue, {
      what: 'the abandoned setups cancelled at the PSP',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    await waitFor(async () => (await recorded()).join() === [younger.setupIntentId].join() && clock.armed() === 1, isTrue, {
      what: 'the sweep to end and sleep until the younger setup comes due',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(sweeper.sweeps).toBe(2);
    expect(atPsp(untouched.setupIntentId).cancellation_reason).toBe('abandoned');
    // The bank's challenge cannot be completed any more.
    expect(() => psp.completeSetupIntent(challenged.setupIntentId, 'succeeded')).toThrow();
    // Completed meanwhile: left as the PSP has it; the card saved from one stays saved.
    expect(atPsp(completed.setupIntentId)).toMatchObject({ status: 'succeeded', payment_method: expect.stringMatching(/^pm_/) });
    expect(atPsp(saved.setupIntentId)).toMatchObject({ status: 'succeeded', metadata: { pay_saved: 'true' } });
    expect(saves.length).toBe(savesBefore);
    expect(atPsp(younger.setupIntentId).status).toBe('requires_payment_method');
    expect(lines).toEqual([expect.stringContaining('2 cancelled at the PSP, 1 completed meanwhile')]);

    // The younger one at its own due time; then nothing is open: no timer, no sweep, however long.
    clock.advance(5 * 60_000);
    await waitFor(async () => atPsp(younger.setupIntentId).status === 'canceled' && (await recorded()).length === 0 && clock.armed() === 0, isTrue, {
      what: 'the younger setup cancelled and the sweeper asleep',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(sweeper.sweeps).toBe(3);
    clock.advance(30 * 24 * 3_600_000);
    expect(sweeper.sweeps).toBe(3);
    await sweeper.stop();
  });

  it('keeps a setup the PSP could not be asked about and tries it again later; at start it finds what an earlier process left', async () => {
    const person = await signIn('person', 'p-psp-down');
    const clock = manualClock(Date.now());
    const abandonAfterMs = 60_000;
    const setup = await begin(person);
    // Recorded by an earlier process whose PSP calls failed (a PSP that cannot be reached).
    const unreachable = CardSetups.from(config({ STRIPE_API_PORT: '1' }))!;
    const failing = new AbandonedCardSetups(hub.dataSource, unreachable, { abandonAfterMs, clock, log: () => undefined });
    await hub.dataSource.query('DELETE FROM card_setups WHERE setup_intent_id = $1', [setup.setupIntentId]);
    await failing.opened(setup.setupIntentId, person);
    clock.advance(abandonAfterMs);
    await failing.start();
    expect(await recorded()).toEqual([setup.setupIntentId]);
    expect(atPsp(setup.setupIntentId).status).toBe('requires_payment_method');
    // A retry is armed, not a poll.
    expect(clock.armed()).toBe(1);
    await failing.stop();

    // A new process (the PSP reachable) sweeps it at start.
    const restarted = new AbandonedCardSetups(hub.dataSource, CardSetups.from(config())!, { abandonAfterMs, clock, log: () => undefined });
    await restarted.start();
    expect(atPsp(setup.setupIntentId)).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    expect(await recorded()).toEqual([]);
    expect(clock.armed()).toBe(0);
    await restarted.stop();
  });
});
