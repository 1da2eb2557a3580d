import { Inject, Injectable } from '@nestjs/common';
import { WalletAppsChangedV1 } from '@pay/contracts';
import type { RolloutSource } from '@pay/rollout';
import { ROLLOUT } from '@pay/rollout';
import { changeApps } from '../domain/pay-apps';
import { WalletStore } from '../store/wallet-store';
import type { AppsView } from '../view-wallet/wallet-view';

/** Switches Pay on or off per app, or for a whole set at once; the new set is published. */
@Injectable()
export class SetPayApps {
  constructor(
    private readonly store: WalletStore,
    @Inject(ROLLOUT) private readonly rollout: RolloutSource,
  ) {}

  /** Makes `apps` the whole set (all four = "everywhere", none = "nowhere"). */
  setAll(personId: string, apps: string[], actor: string): Promise<AppsView> {
    return this.apply(personId, actor, () => apps);
  }

  setOne(personId: string, app: string, enabled: boolean, actor: string): Promise<AppsView> {
    return this.apply(personId, actor, (current) => (enabled ? [...current, app] : current.filter((item) => item !== app)));
  }

  private apply(personId: string, actor: string, next: (current: string[]) => string[]): Promise<AppsView> {
    return this.store.change(personId, actor, async (change) => {
      const wallet = await change.wallet();
      const liveApps = this.rollout.policy.liveApps(wallet.country);
      const result = changeApps(wallet.apps, next(wallet.apps), liveApps);
      if (result.enabled.length > 0 || result.disabled.length > 0) {
        await change.sql.query('UPDATE wallets SET apps = $2 WHERE person_id = $1', [personId, result.apps]);
        change.emit(WalletAppsChangedV1, result);
      }
      return { apps: result.apps, availableApps: liveApps };
    });
  }
}
