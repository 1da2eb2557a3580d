import { Injectable } from '@nestjs/common';
import { PinUnblockedV1 } from '@pay/contracts';
import { WalletError } from '../domain/wallet-error';
import { findPin } from '../store/pin-check';
import { WalletStore } from '../store/wallet-store';

/**
 * An operator lifts a PIN block (or a timed lock) after support re-verified the person out of
 * band; the case reference and the operator are recorded in the wallet's audited events. The
 * re-verification itself (identity check, support case) is not part of the wallet.
 */
@Injectable()
export class UnblockPin {
  constructor(private readonly store: WalletStore) {}

  unblock(personId: string, caseReference: string, actor: string): Promise<void> {
    return this.store.change(personId, actor, async (change) => {
      await change.wallet();
      const row = await findPin(change);
      if (!row) throw new WalletError('conflict', 'PIN_NOT_SET', 'no PIN is set: there is nothing to unblock');
      if (row.blocked_at === null && row.locked_until === null && row.failed_attempts === 0 && row.lock_count === 0) {
        throw new WalletError('conflict', 'PIN_NOT_LOCKED', 'PIN use is neither locked nor blocked: there is nothing to unblock');
      }
      await change.sql.query('UPDATE pin_credentials SET failed_attempts = 0, locked_until = NULL, lock_count = 0, blocked_at = NULL WHERE person_id = $1', [
        personId,
      ]);
      change.emit(PinUnblockedV1, { caseReference });
    });
  }
}
