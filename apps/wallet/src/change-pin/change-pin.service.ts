import { Injectable } from '@nestjs/common';
import { PinChangedV1 } from '@pay/contracts';
import { assertAcceptablePin } from '../domain/pin-policy';
import { PinChecker } from '../store/pin-check';
import { WalletStore } from '../store/wallet-store';

/** A new PIN, given the current one; a wrong current PIN counts toward the lockout. */
@Injectable()
export class ChangePin {
  constructor(
    private readonly store: WalletStore,
    private readonly pins: PinChecker,
  ) {}

  async change(personId: string, currentPin: string, newPin: string, actor: string): Promise<void> {
    assertAcceptablePin(newPin);
    const check = await this.store.change(personId, actor, async (change) => {
      await change.wallet();
      const result = await this.pins.check(change, currentPin);
      if (!result.ok) return result;
      await change.sql.query('UPDATE pin_credentials SET pin_hash = $2, changed_at = now() WHERE person_id = $1', [
        personId,
        await this.pins.seal(change, newPin),
      ]);
      change.emit(PinChangedV1, {});
      return result;
    });
    if (!check.ok) throw check.refusal;
  }
}
