import type { AppName } from '@pay/contracts';
import { APPS } from '@pay/contracts';
import { WalletError } from './wallet-error';

export interface AppsChange {
  apps: AppName[];
  enabled: AppName[];
  disabled: AppName[];
}

/** Apps in a stable order (the order of APPS), so sets compare and print the same everywhere. */
export function sortApps(apps: Iterable<string>): AppName[] {
  const wanted = new Set(apps);
  return APPS.filter((app) => wanted.has(app));
}

/**
 * The new set of apps where Pay is active. Enabling is only allowed where Pay is live for the
 * person's country; disabling is always allowed (a person can always switch Pay off).
 */
export function changeApps(current: readonly string[], next: readonly string[], liveApps: readonly string[]): AppsChange {
  const before = new Set(current);
  const after = new Set(next);
  const enabled = sortApps([...after].filter((app) => !before.has(app)));
  const notLive = enabled.filter((app) => !liveApps.includes(app));
  if (notLive.length > 0) {
    throw new WalletError(
      'refused',
      'PAY_NOT_AVAILABLE_IN_APP',
      `Pay is not available in ${notLive.join(', ')} in this country yet; it is available in ${liveApps.join(', ') || 'no app'}`,
      {
        apps: notLive,
      },
    );
  }
  return { apps: sortApps(after), enabled, disabled: sortApps([...before].filter((app) => !after.has(app))) };
}
