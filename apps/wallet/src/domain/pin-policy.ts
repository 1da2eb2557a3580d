import { WalletError } from './wallet-error';

/** How many wrong PINs lock PIN use, and for how long (PIN_MAX_ATTEMPTS, PIN_LOCKOUT_SECONDS). */
export interface PinLockoutPolicy {
  maxAttempts: number;
  lockoutMs: number;
}

export interface PinAttempts {
  failedAttempts: number;
  lockedUntil: Date | null;
}

export const PIN_PATTERN = /^\d{4,6}$/;

/**
 * A PIN is 4 to 6 digits and not one of the guesses tried first: one digit repeated, or a
 * straight run up or down (1234, 9876). With five tries those would fall first.
 */
export function assertAcceptablePin(pin: string): void {
  if (!PIN_PATTERN.test(pin)) throw new WalletError('invalid', 'PIN_FORMAT', 'a PIN is 4 to 6 digits');
  const digits = [...pin].map(Number);
  const steps = new Set(digits.slice(1).map((digit, i) => (digit - digits[i] + 10) % 10));
  if (steps.size === 1 && [0, 1, 9].includes([...steps][0])) {
    throw new WalletError('invalid', 'PIN_TOO_WEAK', 'choose a PIN that is not one digit repeated or a run such as 1234 or 9876');
  }
}

/** The attempts as they stand at `now`: an expired lock is over, with a fresh set of tries. */
export function currentAttempts(attempts: PinAttempts, now: Date): PinAttempts {
  if (attempts.lockedUntil && attempts.lockedUntil.getTime() <= now.getTime()) return { failedAttempts: 0, lockedUntil: null };
  return attempts;
}

export function assertNotLocked(attempts: PinAttempts, now: Date): void {
  const current = currentAttempts(attempts, now);
  if (current.lockedUntil) {
    throw new WalletError('locked', 'PIN_LOCKED', `too many wrong PINs: PIN use is locked until ${current.lockedUntil.toISOString()}`, {
      lockedUntil: current.lockedUntil.toISOString(),
    });
  }
}

export interface FailedAttemptOutcome {
  attempts: PinAttempts;
  remainingAttempts: number;
  /** This attempt started a lock. */
  lockedNow: boolean;
}

/** Counts a wrong PIN; the last allowed one locks PIN use for the lockout period. */
export function recordFailedAttempt(attempts: PinAttempts, policy: PinLockoutPolicy, now: Date): FailedAttemptOutcome {
  const failedAttempts = currentAttempts(attempts, now).failedAttempts + 1;
  if (failedAttempts >= policy.maxAttempts) {
    return { attempts: { failedAttempts, lockedUntil: new Date(now.getTime() + policy.lockoutMs) }, remainingAttempts: 0, lockedNow: true };
  }
  return { attempts: { failedAttempts, lockedUntil: null }, remainingAttempts: policy.maxAttempts - failedAttempts, lockedNow: false };
}

export function wrongPin(outcome: FailedAttemptOutcome): WalletError {
  if (outcome.lockedNow) {
    const until = outcome.attempts.lockedUntil!.toISOString();
    return new WalletError('locked', 'PIN_LOCKED', `wrong PIN; too many wrong PINs: PIN use is locked until ${until}`, { lockedUntil: until });
  }
  return new WalletError('refused', 'PIN_INCORRECT', `wrong PIN; ${outcome.remainingAttempts} tries left before PIN use is locked`, {
    remainingAttempts: outcome.remainingAttempts,
  });
}
