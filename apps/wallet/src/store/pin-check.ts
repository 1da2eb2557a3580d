import { Inject, Injectable } from '@nestjs/common';
import { PinAttemptFailedV1, PinBlockedV1, PinLockedV1 } from '@pay/contracts';
import type { PinAttempts } from '../domain/pin-policy';
import { assertNotLocked, recordFailedAttempt, wrongPin } from '../domain/pin-policy';
import { WalletError } from '../domain/wallet-error';
import type { Clock } from '../ports/clock';
import { CLOCK } from '../ports/clock';
import type { PinHasher } from '../ports/pin-hasher';
import { PIN_HASHER } from '../ports/pin-hasher';
import type { WalletRules } from '../wallet-settings.tokens';
import { WALLET_RULES } from '../wallet-settings.tokens';
import { SecretBox, secretContext } from './secret-box';
import type { WalletChange } from './wallet-store';

export interface PinRow {
  person_id: string;
  pin_hash: string;
  failed_attempts: number;
  locked_until: Date | null;
  lock_count: number;
  blocked_at: Date | null;
}

export function pinAttempts(row: Pick<PinRow, 'failed_attempts' | 'locked_until' | 'lock_count' | 'blocked_at'>): PinAttempts {
  return { failedAttempts: row.failed_attempts, lockedUntil: row.locked_until, lockCount: row.lock_count, blocked: row.blocked_at !== null };
}

/** A wrong PIN is not an exception inside the transaction: its count must commit. */
export type PinCheck = { ok: true } | { ok: false; refusal: WalletError };

export async function findPin(change: WalletChange): Promise<PinRow | undefined> {
  const rows: PinRow[] = await change.sql.query('SELECT * FROM pin_credentials WHERE person_id = $1', [change.personId]);
  return rows[0];
}

/**
 * Checks a PIN inside a wallet change (which holds the person's lock, so parallel guesses are
 * counted one after the other in PostgreSQL, by every replica). While locked or blocked, no PIN
 * is even compared (argon2 runs only for the allowed tries). A wrong PIN is counted
 * and published; the caller commits, then refuses.
 */
@Injectable()
export class PinChecker {
  constructor(
    private readonly secrets: SecretBox,
    @Inject(PIN_HASHER) private readonly hasher: PinHasher,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WALLET_RULES) private readonly rules: WalletRules,
  ) {}

  async check(change: WalletChange, pin: string): Promise<PinCheck> {
    const row = await findPin(change);
    if (!row) throw new WalletError('conflict', 'PIN_NOT_SET', 'no PIN is set yet: set one first');
    const now = this.clock.now();
    const attempts = pinAttempts(row);
    assertNotLocked(attempts, now);
    const hash = await this.secrets.open(change.sql, row.pin_hash, secretContext.pinHash(change.personId));
    if (await this.hasher.verify(hash, pin)) {
      if (row.failed_attempts !== 0 || row.locked_until !== null || row.lock_count !== 0) {
        await change.sql.query('UPDATE pin_credentials SET failed_attempts = 0, locked_until = NULL, lock_count = 0 WHERE person_id = $1', [change.personId]);
      }
      return { ok: true };
    }
    const outcome = recordFailedAttempt(attempts, this.rules.pinLockout, now);
    await change.sql.query('UPDATE pin_credentials SET failed_attempts = $2, locked_until = $3, lock_count = $4, blocked_at = $5 WHERE person_id = $1', [
      change.personId,
      outcome.attempts.failedAttempts,
      outcome.attempts.lockedUntil,
      outcome.attempts.lockCount,
      outcome.blockedNow ? now : row.blocked_at,
    ]);
    change.emit(PinAttemptFailedV1, { failedAttempts: outcome.attempts.failedAttempts, remainingAttempts: outcome.remainingAttempts });
    if (outcome.lockedNow) change.emit(PinLockedV1, { lockedUntil: outcome.attempts.lockedUntil!.toISOString() });
    if (outcome.blockedNow) change.emit(PinBlockedV1, { lockCount: outcome.attempts.lockCount });
    return { ok: false, refusal: wrongPin(outcome) };
  }

  /** The sealed argon2id hash of a new PIN. */
  async seal(change: WalletChange, pin: string): Promise<string> {
    return this.secrets.seal(change.sql, change.personId, await this.hasher.hash(pin), secretContext.pinHash(change.personId));
  }
}
