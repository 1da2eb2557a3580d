import { Injectable } from '@nestjs/common';
import { PaymentMethodRenamedV1 } from '@pay/contracts';
import { normalizeLabel } from '../domain/payment-method-rules';
import { assertActive } from '../remove-payment-method/method-status';
import { WalletStore } from '../store/wallet-store';
import { PaymentMethodReader } from '../view-payment-methods/payment-method-reader';
import type { PaymentMethodView } from '../view-payment-methods/payment-method-view';

@Injectable()
export class RenamePaymentMethod {
  constructor(
    private readonly store: WalletStore,
    private readonly reader: PaymentMethodReader,
  ) {}

  rename(personId: string, methodId: string, label: string, actor: string): Promise<PaymentMethodView> {
    const normalized = normalizeLabel(label);
    return this.store.change(personId, actor, async (change) => {
      const wallet = await change.wallet();
      const row = await this.reader.row(personId, methodId, change.sql);
      assertActive(row);
      if (row.label !== normalized) {
        await change.sql.query('UPDATE payment_methods SET label = $3, updated_at = now() WHERE id = $1 AND person_id = $2', [methodId, personId, normalized]);
        change.emit(PaymentMethodRenamedV1, { methodId });
      }
      return this.reader.view({ ...row, label: normalized }, wallet.preferred_method_id, change.sql);
    });
  }
}
