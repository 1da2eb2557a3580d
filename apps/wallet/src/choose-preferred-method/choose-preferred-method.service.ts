import { Injectable } from '@nestjs/common';
import { PaymentMethodMadePreferredV1 } from '@pay/contracts';
import { assertActive } from '../remove-payment-method/method-status';
import { WalletStore } from '../store/wallet-store';
import { PaymentMethodReader } from '../view-payment-methods/payment-method-reader';
import type { PaymentMethodView } from '../view-payment-methods/payment-method-view';

/** Makes a method the one every app pays with unless told otherwise. */
@Injectable()
export class ChoosePreferredMethod {
  constructor(
    private readonly store: WalletStore,
    private readonly reader: PaymentMethodReader,
  ) {}

  choose(personId: string, methodId: string, actor: string): Promise<PaymentMethodView> {
    return this.store.change(personId, actor, async (change) => {
      const wallet = await change.wallet();
      const row = await this.reader.row(personId, methodId, change.sql);
      assertActive(row);
      const previous = wallet.preferred_method_id;
      if (previous !== methodId) {
        await change.sql.query('UPDATE wallets SET preferred_method_id = $2 WHERE person_id = $1', [personId, methodId]);
        change.emit(PaymentMethodMadePreferredV1, { methodId, ...(previous ? { previousMethodId: previous } : {}) });
      }
      return this.reader.view(row, methodId, change.sql);
    });
  }
}
