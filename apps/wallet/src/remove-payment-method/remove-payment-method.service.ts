import { Injectable } from '@nestjs/common';
import { PaymentMethodRemovedV1 } from '@pay/contracts';
import { WalletStore } from '../store/wallet-store';
import { PaymentMethodReader } from '../view-payment-methods/payment-method-reader';

/**
 * Removes a method: it can no longer pay, its display data stays for history, and its sealed
 * secret (token, IBAN, e-mail) is erased, since nothing may use it again. Removing twice is fine.
 */
@Injectable()
export class RemovePaymentMethod {
  constructor(
    private readonly store: WalletStore,
    private readonly reader: PaymentMethodReader,
  ) {}

  remove(personId: string, methodId: string, actor: string): Promise<void> {
    return this.store.change(personId, actor, async (change) => {
      const wallet = await change.wallet();
      const row = await this.reader.row(personId, methodId, change.sql);
      if (row.status === 'removed') return;
      const wasPreferred = wallet.preferred_method_id === methodId;
      if (wasPreferred) await change.sql.query('UPDATE wallets SET preferred_method_id = NULL WHERE person_id = $1', [personId]);
      await change.sql.query(
        "UPDATE payment_methods SET status = 'removed', secret = NULL, removed_at = now(), updated_at = now() WHERE id = $1 AND person_id = $2",
        [methodId, personId],
      );
      change.emit(PaymentMethodRemovedV1, { methodId, wasPreferred });
    });
  }
}
