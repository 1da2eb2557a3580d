import { Injectable } from '@nestjs/common';
import { PasskeyRemovedV1 } from '@pay/contracts';
import { WalletError } from '../domain/wallet-error';
import { PasskeyStore } from '../passkeys/passkey-store';
import { WalletStore } from '../store/wallet-store';

/** A removed passkey is deleted under the person's lock: no assertion verifies against it afterwards. */
@Injectable()
export class RemovePasskey {
  constructor(
    private readonly store: WalletStore,
    private readonly passkeys: PasskeyStore,
  ) {}

  async remove(personId: string, passkeyId: string, actor: string): Promise<void> {
    await this.store.change(personId, actor, async (change) => {
      await change.wallet();
      if (!(await this.passkeys.remove(change.sql, personId, passkeyId))) {
        throw new WalletError('not-found', 'PASSKEY_NOT_FOUND', 'this wallet has no passkey with that id');
      }
      change.emit(PasskeyRemovedV1, { passkeyId });
    });
  }
}
