import { Inject, Injectable } from '@nestjs/common';
import type { PaymentMethodKind } from '@pay/contracts';
import type { RolloutSource } from '@pay/rollout';
import { ROLLOUT } from '@pay/rollout';
import { DataSource } from 'typeorm';
import { WalletError } from '../domain/wallet-error';
import { assertActive } from '../remove-payment-method/method-status';
import { SecretBox, secretContext } from '../store/secret-box';
import { WalletStore } from '../store/wallet-store';
import { PaymentMethodReader } from '../view-payment-methods/payment-method-reader';

export interface PaymentInstrument {
  methodId: string;
  kind: PaymentMethodKind;
  /** What the PSP needs to charge: a token, a customer, or the bank account (for a mandate). */
  credentials: Record<string, string>;
}

/** What the payment service needs to charge a method; only for a method that may pay, in an app where Pay is on. */
@Injectable()
export class GetPaymentInstrument {
  constructor(
    private readonly store: WalletStore,
    private readonly reader: PaymentMethodReader,
    private readonly secrets: SecretBox,
    private readonly dataSource: DataSource,
    @Inject(ROLLOUT) private readonly rollout: RolloutSource,
  ) {}

  /** `methodId` is a method's id, or `preferred` for the person's preferred method. */
  async get(personId: string, methodId: string, app: string): Promise<PaymentInstrument> {
    const wallet = await this.store.get(personId);
    this.rollout.policy.assertLive(wallet.country, app);
    if (!wallet.apps.includes(app)) {
      throw new WalletError('refused', 'PAY_NOT_ACTIVE_IN_APP', `the person has not turned Pay on in ${app}`, { app });
    }
    const id = methodId === 'preferred' ? wallet.preferred_method_id : methodId;
    if (!id) throw new WalletError('conflict', 'NO_PREFERRED_METHOD', 'the person has no preferred payment method; name one');
    const row = await this.reader.row(personId, id);
    assertActive(row);
    const secret = JSON.parse(await this.secrets.open(this.dataSource, row.secret!, secretContext.method(row.id))) as Record<string, string>;
    // The PayPal e-mail is contact data, not a credential: it stays in the wallet.
    const { email: _email, ...credentials } = secret;
    return { methodId: row.id, kind: row.kind, credentials };
  }
}
