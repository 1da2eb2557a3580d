import { Injectable } from '@nestjs/common';
import { ConsentChangedV1 } from '@pay/contracts';
import { WalletStore } from '../store/wallet-store';
import type { ConsentView } from '../view-wallet/wallet-view';

/**
 * The person's own choice about ad measurement. It is published even when it confirms the
 * default, because "chosen" and "defaulted" are different facts for the advertisers' side.
 */
@Injectable()
export class RecordConsent {
  constructor(private readonly store: WalletStore) {}

  record(personId: string, granted: boolean, actor: string): Promise<ConsentView> {
    return this.store.change(personId, actor, async (change) => {
      const wallet = await change.wallet();
      if (wallet.ad_measurement_consent === granted && wallet.consent_source === 'person') {
        return { granted, source: 'person', updatedAt: wallet.consent_updated_at.toISOString() };
      }
      const rows = await change.sql.query<{ consent_updated_at: Date }>(
        `UPDATE wallets SET ad_measurement_consent = $2, consent_source = 'person', consent_updated_at = now()
          WHERE person_id = $1 RETURNING consent_updated_at`,
        [personId, granted],
      );
      change.emit(ConsentChangedV1, { purpose: 'ad-measurement', granted, source: 'person', country: wallet.country });
      return { granted, source: 'person', updatedAt: rows[0].consent_updated_at.toISOString() };
    });
  }
}
