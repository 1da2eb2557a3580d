import { WalletError } from './wallet-error';

/**
 * How many wrong PINs lock PIN use, and for how long: the first lock lasts `lockoutsMs[0]`, each
 * further one the next entry (PIN_LOCKOUT_SECONDS, then PIN_LATER_LOCKOUTS_SECONDS); one lock more
 * than there are entries blocks PIN use until the person is re-verified (an operator unblocks it).
 */
export interface PinLockoutPolicy {
  maxAttempts: number;
  lockoutsMs: readonly number[];
}

export interface PinAttempts {
  failedAttempts: number;
  lockedUntil: Date | null;
  /** Locks since the last right PIN (or unblock): each one lasts longer. */
  lockCount: number;
  /** Locked until re-verified: no time ends it. */
  blocked: boolean;
}

export const NO_FAILED_ATTEMPTS: PinAttempts = { failedAttempts: 0, lockedUntil: null, lockCount: 0, blocked: false };

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

/** The attempts as they stand at `now`: an expired lock is over, with a fresh set of tries (the lock count stays). */
export function currentAttempts(attempts: PinAttempts, now: Date): PinAttempts {
  if (!attempts.blocked && attempts.lockedUntil && attempts.lockedUntil.getTime() <= now.getTime()) {
    return { ...attempts, failedAttempts: 0, lockedUntil: null };
  }
  return attempts;
}

const BLOCKED_MESSAGE = 'PIN use is blocked until the person is re-verified (support unblocks it)';

export function pinBlocked(prefix = 'too many wrong PINs after repeated locks'): WalletError {
  return new WalletError('locked', 'PIN_BLOCKED', `${prefix}: ${BLOCKED_MESSAGE}`, { blocked: true });
}

export function assertNotLocked(attempts: PinAttempts, now: Date): void {
  const current = currentAttempts(attempts, now);
  if (current.blocked) throw pinBlocked();
  if (current.lockedUntil) {
    throw new WalletError('locked', 'PIN_LOCKED', `too many wrong PINs: PIN use is locked until ${current.lockedUntil.toISOString()}`, {
      lockedUntil: current.lockedUntil.toISOString(),
    });
  }
}

export interface FailedAttemptOutcome {
  attempts: PinAttempts;
  remainingAttempts: number;
  /** This attempt started a timed lock. */
  lockedNow: boolean;
  /** This attempt blocked PIN use until re-verification. */
  blockedNow: boolean;
}

/**
 * Counts a wrong PIN; the last allowed one locks PIN use, each lock longer than the one before,
 * and the lock after the last timed one blocks it.
 */
export function recordFailedAttempt(attempts: PinAttempts, policy: PinLockoutPolicy, now: Date): FailedAttemptOutcome {
  const current = currentAttempts(attempts, now);
  const failedAttempts = current.failedAttempts + 1;
  if (failedAttempts < policy.maxAttempts) {
    return { attempts: { ...current, failedAttempts }, remainingAttempts: policy.maxAttempts - failedAttempts, lockedNow: false, blockedNow: false };
  }
  const lockCount = current.lockCount + 1;
  if (lockCount > policy.lockoutsMs.length) {
    return { attempts: { failedAttempts, lockedUntil: null, lockCount, blocked: true }, remainingAttempts: 0, lockedNow: false, blockedNow: true };
  }
  const lockedUntil = new Date(now.getTime() + policy.lockoutsMs[lockCount - 1]);
  return { attempts: { failedAttempts, lockedUntil, lockCount, blocked: false }, remainingAttempts: 0, lockedNow: true, blockedNow: false };
}

export function wrongPin(outcome: FailedAttemptOutcome): WalletError {
  if (outcome.blockedNow) return pinBlocked('wrong PIN; too many wrong PINs after repeated locks');
  if (outcome.lockedNow) {
    const until = outcome.attempts.lockedUntil!.toISOString();
    return new WalletError('locked', 'PIN_LOCKED', `wrong PIN; too many wrong PINs: PIN use is locked until ${until}`, { lockedUntil: until });
  }
  return new WalletError('refused', 'PIN_INCORRECT', `wrong PIN; ${outcome.remainingAttempts} tries left before PIN use is locked`, {
    remainingAttempts: outcome.remainingAttempts,
  });
}
