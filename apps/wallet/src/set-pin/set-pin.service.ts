import { Injectable } from '@nestjs/common';
import { PinSetV1 } from '@pay/contracts';
import { assertAcceptablePin } from '../domain/pin-policy';
import { WalletError } from '../domain/wallet-error';
import { findPin, PinChecker } from '../store/pin-check';
import { WalletStore } from '../store/wallet-store';

/** The first PIN. Changing it needs the current one (change-pin). */
@Injectable()
export class SetPin {
  constructor(
    private readonly store: WalletStore,
    private readonly pins: PinChecker,
  ) {}

  set(personId: string, pin: string, actor: string): Promise<void> {
    assertAcceptablePin(pin);
    return this.store.change(personId, actor, async (change) => {
      await change.wallet();
      if (await findPin(change)) throw new WalletError('conflict', 'PIN_ALREADY_SET', 'a PIN is already set: change it with the current PIN');
      await change.sql.query('INSERT INTO pin_credentials (person_id, pin_hash) VALUES ($1, $2)', [personId, await this.pins.seal(change, pin)]);
      change.emit(PinSetV1, {});
    });
  }
}
