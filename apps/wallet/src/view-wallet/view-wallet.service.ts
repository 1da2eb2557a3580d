import { sqlOfPool } from '@pay/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { RolloutSource } from '@pay/rollout';
import { ROLLOUT } from '@pay/rollout';
import { DataSource } from 'typeorm';
import { maskEmail, maskPhone } from '../domain/contact';
import { currentAttempts } from '../domain/pin-policy';
import { CLOCK } from '../ports/clock';
import type { Clock } from '../ports/clock';
import { SecretBox, secretContext } from '../store/secret-box';
import type { PinRow } from '../store/pin-check';
import { pinAttempts } from '../store/pin-check';
import type { WalletRow } from '../store/wallet-store';
import { WalletStore } from '../store/wallet-store';
import { PaymentMethodReader } from '../view-payment-methods/payment-method-reader';
import type { ContactView, WalletView } from './wallet-view';

@Injectable()
export class ViewWallet {
  constructor(
    private readonly store: WalletStore,
    private readonly methods: PaymentMethodReader,
    private readonly secrets: SecretBox,
    private readonly dataSource: DataSource,
    @Inject(ROLLOUT) private readonly rollout: RolloutSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async view(personId: string): Promise<WalletView> {
    const wallet = await this.store.get(personId);
    const pins: Pick<PinRow, 'failed_attempts' | 'locked_until' | 'lock_count' | 'blocked_at'>[] = await this.dataSource.query(
      'SELECT failed_attempts, locked_until, lock_count, blocked_at FROM pin_credentials WHERE person_id = $1',
      [personId],
    );
    const attempts = pins[0] ? currentAttempts(pinAttempts(pins[0]), this.clock.now()) : undefined;
    return {
      personId: wallet.person_id,
      country: wallet.country,
      apps: wallet.apps,
      availableApps: this.rollout.policy.liveApps(wallet.country),
      ...(wallet.preferred_method_id ? { preferredMethodId: wallet.preferred_method_id } : {}),
      paymentMethods: await this.methods.list(personId, wallet.preferred_method_id, false),
      pin: {
        set: attempts !== undefined,
        ...(attempts?.lockedUntil ? { lockedUntil: attempts.lockedUntil.toISOString() } : {}),
        ...(attempts?.blocked ? { blocked: true } : {}),
      },
      consents: {
        adMeasurement: { granted: wallet.ad_measurement_consent, source: wallet.consent_source, updatedAt: wallet.consent_updated_at.toISOString() },
      },
      contact: await this.contact(wallet),
    };
  }

  async contact(wallet: WalletRow): Promise<ContactView> {
    const contact: ContactView = {};
    if (wallet.contact_email)
      contact.email = maskEmail(await this.secrets.open(sqlOfPool(this.dataSource), wallet.contact_email, secretContext.contactEmail(wallet.person_id)));
    if (wallet.contact_phone)
      contact.phone = maskPhone(await this.secrets.open(sqlOfPool(this.dataSource), wallet.contact_phone, secretContext.contactPhone(wallet.person_id)));
    return contact;
  }
}
