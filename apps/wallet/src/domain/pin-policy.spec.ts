import { assertAcceptablePin, assertNotLocked, currentAttempts, NO_FAILED_ATTEMPTS, recordFailedAttempt, wrongPin } from './pin-policy';
import type { PinAttempts } from './pin-policy';
import { WalletError } from './wallet-error';

const lockoutMs = 15 * 60_000;
const policy = { maxAttempts: 5, lockoutsMs: [lockoutMs, 60 * 60_000, 24 * 60 * 60_000] };
const t0 = new Date('2026-01-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);

describe('PIN rules', () => {
  it.each(['4829', '73019', '730264'])('accepts %s', (pin) => expect(() => assertAcceptablePin(pin)).not.toThrow());

  it.each([
    ['123', 'PIN_FORMAT'],
    ['1234567', 'PIN_FORMAT'],
    ['12a4', 'PIN_FORMAT'],
    ['0000', 'PIN_TOO_WEAK'],
    ['1234', 'PIN_TOO_WEAK'],
    ['987654', 'PIN_TOO_WEAK'],
    ['8901', 'PIN_TOO_WEAK'],
  ])('refuses %s (%s)', (pin, code) => {
    expect(() => assertAcceptablePin(pin)).toThrow(expect.objectContaining({ code }) as Error);
  });

  it('locks after the fifth wrong PIN, for the lockout period, then gives fresh tries', () => {
    let attempts: PinAttempts = NO_FAILED_ATTEMPTS;
    for (let i = 1; i <= 4; i += 1) {
      const outcome = recordFailedAttempt(attempts, policy, at(i));
      expect(outcome).toMatchObject({ lockedNow: false, remainingAttempts: 5 - i });
      expect(wrongPin(outcome).code).toBe('PIN_INCORRECT');
      attempts = outcome.attempts;
    }
    const fifth = recordFailedAttempt(attempts, policy, at(5));
    expect(fifth.lockedNow).toBe(true);
    expect(fifth.attempts.lockedUntil).toEqual(at(5 + lockoutMs));
    expect(wrongPin(fifth)).toMatchObject({ kind: 'locked', code: 'PIN_LOCKED' });

    expect(() => assertNotLocked(fifth.attempts, at(5 + lockoutMs - 1))).toThrow(WalletError);
    expect(() => assertNotLocked(fifth.attempts, at(5 + lockoutMs))).not.toThrow();
    expect(currentAttempts(fifth.attempts, at(5 + lockoutMs))).toEqual({ failedAttempts: 0, lockedUntil: null, lockCount: 1, blocked: false });
    // After the lock, a wrong PIN counts from one again.
    expect(recordFailedAttempt(fifth.attempts, policy, at(6 + lockoutMs)).remainingAttempts).toBe(4);
  });

  it('makes each further lock longer, then blocks PIN use until re-verified, whatever the time', () => {
    let attempts: PinAttempts = NO_FAILED_ATTEMPTS;
    let now = t0.getTime();
    const durations: number[] = [];
    for (let round = 1; round <= 4; round += 1) {
      for (let i = 1; i <= 5; i += 1) {
        now += 1;
        const outcome = recordFailedAttempt(attempts, policy, new Date(now));
        attempts = outcome.attempts;
        if (i < 5) expect(outcome).toMatchObject({ lockedNow: false, blockedNow: false });
        else if (round < 4) {
          expect(outcome).toMatchObject({ lockedNow: true, blockedNow: false });
          durations.push(attempts.lockedUntil!.getTime() - now);
        } else {
          expect(outcome).toMatchObject({ lockedNow: false, blockedNow: true });
          expect(wrongPin(outcome)).toMatchObject({ kind: 'locked', code: 'PIN_BLOCKED' });
        }
      }
      if (attempts.lockedUntil) now = attempts.lockedUntil.getTime();
    }
    expect(durations).toEqual(policy.lockoutsMs);
    expect(attempts).toMatchObject({ lockCount: 4, blocked: true, lockedUntil: null });
    const yearsLater = new Date(now + 5 * 365 * 24 * 60 * 60_000);
    expect(() => assertNotLocked(attempts, yearsLater)).toThrow(expect.objectContaining({ code: 'PIN_BLOCKED' }) as Error);
    expect(currentAttempts(attempts, yearsLater)).toBe(attempts);
  });

  it('blocks at the first lock when no timed lock is configured', () => {
    let attempts: PinAttempts = NO_FAILED_ATTEMPTS;
    for (let i = 1; i <= 3; i += 1) attempts = recordFailedAttempt(attempts, { maxAttempts: 3, lockoutsMs: [] }, at(i)).attempts;
    expect(attempts).toMatchObject({ blocked: true, lockCount: 1 });
  });
});
