import { Inject, Injectable } from '@nestjs/common';
import { ConsentChangedV1, WalletOpenedV1 } from '@pay/contracts';
import type { RolloutSource } from '@pay/rollout';
import { ROLLOUT } from '@pay/rollout';
import { defaultAdMeasurementConsent } from '../domain/consent';
import { WalletError } from '../domain/wallet-error';
import { WalletStore } from '../store/wallet-store';
import type { WalletRules } from '../wallet-settings.tokens';
import { WALLET_RULES } from '../wallet-settings.tokens';

/** A person starts using Pay: only in a country where it is live; consent starts off unless configured on for its country. */
@Injectable()
export class OpenWallet {
  constructor(
    private readonly store: WalletStore,
    @Inject(ROLLOUT) private readonly rollout: RolloutSource,
    @Inject(WALLET_RULES) private readonly rules: WalletRules,
  ) {}

  async open(personId: string, country: string, actor: string): Promise<void> {
    this.rollout.policy.assertLive(country);
    const granted = defaultAdMeasurementConsent(country, this.rules.adConsentGrantedByDefaultCountries);
    await this.store.change(personId, actor, async (change) => {
      const inserted: unknown[] = await change.sql.query(
        `INSERT INTO wallets (person_id, country, ad_measurement_consent, consent_source) VALUES ($1, $2, $3, 'default')
         ON CONFLICT (person_id) DO NOTHING RETURNING person_id`,
        [personId, country, granted],
      );
      if (inserted.length === 0) throw new WalletError('conflict', 'WALLET_EXISTS', 'this person already has a wallet');
      change.emit(WalletOpenedV1, { country, apps: [] });
      change.emit(ConsentChangedV1, { purpose: 'ad-measurement', granted, source: 'default', country });
    });
  }
}
