import { assertAcceptablePin, assertNotLocked, currentAttempts, recordFailedAttempt, wrongPin } from './pin-policy';
import { WalletError } from './wallet-error';

const policy = { maxAttempts: 5, lockoutMs: 15 * 60_000 };
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
    let attempts = { failedAttempts: 0, lockedUntil: null as Date | null };
    for (let i = 1; i <= 4; i += 1) {
      const outcome = recordFailedAttempt(attempts, policy, at(i));
      expect(outcome).toMatchObject({ lockedNow: false, remainingAttempts: 5 - i });
      expect(wrongPin(outcome).code).toBe('PIN_INCORRECT');
      attempts = outcome.attempts;
    }
    const fifth = recordFailedAttempt(attempts, policy, at(5));
    expect(fifth.lockedNow).toBe(true);
    expect(fifth.attempts.lockedUntil).toEqual(at(5 + policy.lockoutMs));
    expect(wrongPin(fifth)).toMatchObject({ kind: 'locked', code: 'PIN_LOCKED' });

    expect(() => assertNotLocked(fifth.attempts, at(5 + policy.lockoutMs - 1))).toThrow(WalletError);
    expect(() => assertNotLocked(fifth.attempts, at(5 + policy.lockoutMs))).not.toThrow();
    expect(currentAttempts(fifth.attempts, at(5 + policy.lockoutMs))).toEqual({ failedAttempts: 0, lockedUntil: null });
    // After the lock, a wrong PIN counts from one again.
    expect(recordFailedAttempt(fifth.attempts, policy, at(6 + policy.lockoutMs)).remainingAttempts).toBe(4);
  });
});
