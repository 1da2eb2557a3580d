import { uniqueName } from '@pay/testing';
import type { Clock } from '../src/ports/clock';
import { CLOCK } from '../src/ports/clock';
import type { PinHasher } from '../src/ports/pin-hasher';
import { PIN_HASHER } from '../src/ports/pin-hasher';
import type { Caller, WalletUnderTest } from './wallet-test-kit';
import { dropWalletSchema, startWallet } from './wallet-test-kit';

const PIN = '730264';
const CEILING = { amount: '100', currency: 'USD' };
const LOCKOUTS_SECONDS = [900, 3_600, 86_400];

interface Attempt {
  status: number;
  code: string;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

/** A PIN step-up as the given caller, keeping the Retry-After header the kit's caller drops. */
async function stepUp(wallet: WalletUnderTest, caller: Caller, personId: string, pin: string): Promise<Attempt> {
  const response = await fetch(`${wallet.url}/v1/wallets/${personId}/step-up/pin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${caller.token}` },
    body: JSON.stringify({ pin, ceiling: CEILING }),
  });
  const body = (await response.json()) as Record<string, unknown> & { code?: string };
  return { status: response.status, code: body.code ?? '', retryAfter: response.headers.get('retry-after'), body };
}

function tally(attempts: Attempt[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const attempt of attempts) counts[`${attempt.status} ${attempt.code}`] = (counts[`${attempt.status} ${attempt.code}`] ?? 0) + 1;
  return counts;
}

/** The wallet's injected clock, held at a moment the test moves. */
function holdClock(wallet: WalletUnderTest): { set(at: Date): void; restore(): void } {
  let now = new Date();
  const spy = jest.spyOn(wallet.service.app.get<symbol, Clock>(CLOCK), 'now').mockImplementation(() => now);
  return { set: (at) => (now = at), restore: () => spy.mockRestore() };
}

async function personWithPin(wallet: WalletUnderTest): Promise<{ id: string; caller: Caller }> {
  const id = uniqueName('abuse');
  const caller = await wallet.person(id);
  expect((await caller.post(`/v1/wallets/${id}`, { country: 'US' })).status).toBe(201);
  expect((await caller.post(`/v1/wallets/${id}/pin`, { pin: PIN })).status).toBe(204);
  return { id, caller };
}

describe('wallet: PIN lockout that escalates, under 100 concurrent attempts', () => {
  let wallet: WalletUnderTest;

  beforeAll(async () => {
    wallet = await startWallet({
      env: {
        PIN_LOCKOUT_SECONDS: String(LOCKOUTS_SECONDS[0]),
        PIN_LATER_LOCKOUTS_SECONDS: LOCKOUTS_SECONDS.slice(1).join(','),
        PIN_ATTEMPTS_PER_PERSON_PER_MINUTE: '10',
        PIN_ATTEMPTS_PER_CALLER_PER_MINUTE: '1000',
      },
    });
  });

  afterAll(async () => {
    await wallet?.stop();
    if (wallet) await dropWalletSchema(wallet.schema);
  });

  it('checks exactly the allowed PINs per round, refuses the rest with a clear code, locks longer each round, then blocks until an operator unblocks', async () => {
    const clock = holdClock(wallet);
    const start = new Date();
    clock.set(start);
    const { id, caller } = await personWithPin(wallet);
    const verify = jest.spyOn(wallet.service.app.get<symbol, PinHasher>(PIN_HASHER), 'verify');
    type PinState = { failed_attempts: number; locked_until: Date | null; lock_count: number; blocked_at: Date | null };
    const pinRow = async (): Promise<PinState> => {
      const rows: PinState[] = await wallet.service.runtime.dataSource.query(
        'SELECT failed_attempts, locked_until, lock_count, blocked_at FROM pin_credentials WHERE person_id = $1',
        [id],
      );
      return rows[0];
    };
    try {
      // A minute on: setting the PIN's attempt is refilled.
      let now = new Date(start.getTime() + 60_000);
      for (let round = 1; round <= LOCKOUTS_SECONDS.length + 1; round += 1) {
        clock.set(now);
        verify.mockClear();
        // 100 different wrong PINs at once, from the person's own token.
        const attempts = await Promise.all(Array.from({ length: 100 }, (_, i) => stepUp(wallet, caller, id, String(482_900 + i))));

        // argon2 ran for the five allowed tries only, whatever the concurrency.
        expect(verify).toHaveBeenCalledTimes(5);
        const blocking = round > LOCKOUTS_SECONDS.length;
        const lockCode = blocking ? 'PIN_BLOCKED' : 'PIN_LOCKED';
        // Ten got past the per-person limit (5 checked, 5 refused by the lock), the other 90 were rate-limited.
        expect(tally(attempts)).toEqual({ '403 PIN_INCORRECT': 4, [`423 ${lockCode}`]: 6, '429 RATE_LIMITED': 90 });
        expect(
          attempts
            .filter((a) => a.code === 'PIN_INCORRECT')
            .map((a) => a.body.remainingAttempts)
            .sort(),
        ).toEqual([1, 2, 3, 4]);
        for (const limited of attempts.filter((a) => a.status === 429)) expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);

        const row = await pinRow();
        expect(row).toMatchObject({ failed_attempts: 5, lock_count: round });
        if (blocking) {
          expect(row.locked_until).toBeNull();
          expect(row.blocked_at).not.toBeNull();
        } else {
          // Each lock is longer than the one before: 15 minutes, 1 hour, 24 hours.
          expect(row.locked_until!.getTime() - now.getTime()).toBe(LOCKOUTS_SECONDS[round - 1] * 1000);
          now = new Date(row.locked_until!.getTime() + 1);
        }
      }

      // Blocked: no time ends it, and the right PIN is not even compared.
      now = new Date(now.getTime() + 10 * 365 * 86_400_000);
      clock.set(now);
      verify.mockClear();
      expect(await stepUp(wallet, caller, id, PIN)).toMatchObject({ status: 423, code: 'PIN_BLOCKED' });
      expect(verify).not.toHaveBeenCalled();
      expect((await caller.get<{ pin: object }>(`/v1/wallets/${id}`)).body.pin).toEqual({ set: true, blocked: true });

      // Only an operator unblocks it, naming the support case in which the person was re-verified.
      expect((await caller.post(`/v1/support/wallets/${id}/pin/unblock`, { caseReference: 'SUP-1' })).status).toBe(403);
      const service = await wallet.as('instagram-shop', 'service');
      expect((await service.post(`/v1/support/wallets/${id}/pin/unblock`, { caseReference: 'SUP-1' })).status).toBe(403);
      const operator = await wallet.as('ops-alice', 'operator');
      expect(await operator.post(`/v1/support/wallets/${id}/pin/unblock`, { caseReference: 'because he called' })).toMatchObject({
        status: 400,
        body: { code: 'VALIDATION_FAILED' },
      });
      expect((await operator.post(`/v1/support/wallets/${id}/pin/unblock`, { caseReference: 'SUP-2026-004211' })).status).toBe(204);
      expect(await operator.post(`/v1/support/wallets/${id}/pin/unblock`, { caseReference: 'SUP-2026-004211' })).toMatchObject({
        status: 409,
        body: { code: 'PIN_NOT_LOCKED' },
      });
      const audit: { data: Record<string, unknown> }[] = await wallet.service.runtime.dataSource.query(
        "SELECT payload->'data' AS data FROM outbox WHERE message_key = $1 AND payload->>'type' = 'wallet.pin.unblocked'",
        [id],
      );
      expect(audit.map((row) => row.data)).toEqual([expect.objectContaining({ actor: 'operator:ops-alice', caseReference: 'SUP-2026-004211' })]);

      expect(await stepUp(wallet, caller, id, PIN)).toMatchObject({ status: 201 });
      expect(await pinRow()).toMatchObject({ failed_attempts: 0, lock_count: 0, locked_until: null, blocked_at: null });
    } finally {
      clock.restore();
      verify.mockRestore();
    }
  });
});

describe('wallet: PIN and step-up rate limits per person and per caller', () => {
  let wallet: WalletUnderTest;

  beforeAll(async () => {
    wallet = await startWallet({ env: { PIN_ATTEMPTS_PER_PERSON_PER_MINUTE: '3', PIN_ATTEMPTS_PER_CALLER_PER_MINUTE: '5' } });
  });

  afterAll(async () => {
    await wallet?.stop();
    if (wallet) await dropWalletSchema(wallet.schema);
  });

  it('refuses a person beyond their limit with 429 and Retry-After, until the bucket refills', async () => {
    const clock = holdClock(wallet);
    const start = new Date();
    clock.set(start);
    try {
      const { id, caller } = await personWithPin(wallet); // setting the PIN took one attempt
      expect((await stepUp(wallet, caller, id, PIN)).status).toBe(201);
      expect((await stepUp(wallet, caller, id, PIN)).status).toBe(201);
      const limited = await stepUp(wallet, caller, id, PIN);
      expect(limited).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfter: '20', body: { retryAfterSeconds: 20 } });
      expect(String(limited.body.message)).toMatch(/this person \(at most 3 a minute\)/);
      // The other routes that take a PIN share the limit.
      const change = await caller.put(`/v1/wallets/${id}/pin`, { currentPin: PIN, newPin: '591837' });
      expect(change).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
      clock.set(new Date(start.getTime() + 20_000));
      expect((await stepUp(wallet, caller, id, PIN)).status).toBe(201);
    } finally {
      clock.restore();
    }
  });

  it("refuses an app's backend that confirms for many persons, each with their own token, beyond its own limit", async () => {
    const clock = holdClock(wallet);
    clock.set(new Date());
    try {
      const persons = await Promise.all(Array.from({ length: 6 }, () => personWithPin(wallet)));
      const results: Attempt[] = [];
      for (const { id } of persons) results.push(await stepUp(wallet, await wallet.delegated(id, 'messenger'), id, PIN));
      expect(results.map((result) => result.status)).toEqual([201, 201, 201, 201, 201, 429]);
      expect(String(results[5].body.message)).toMatch(/this caller \(at most 5 a minute\)/);
      expect(results[5].retryAfter).toBe('12');
      // Each person still has their own tries.
      expect((await stepUp(wallet, persons[5].caller, persons[5].id, PIN)).status).toBe(201);
    } finally {
      clock.restore();
    }
  });
});
