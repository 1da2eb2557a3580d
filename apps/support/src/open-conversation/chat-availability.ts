import type { RolloutPolicy } from '@pay/rollout';

export type ChatRefusalCode = 'SUPPORT_CHAT_NOT_AVAILABLE_IN_COUNTRY' | 'SUPPORT_CHAT_NOT_AVAILABLE_IN_APP';

export type ChatAvailability = { available: true } | { available: false; code: ChatRefusalCode; message: string };

/**
 * Whether chat is offered in a country and app, by the support rollout (the same file format and
 * reloading as Pay's own rollout, its own file), and in words a person understands when it is not.
 */
export function chatAvailability(policy: RolloutPolicy, country: string, app: string): ChatAvailability {
  const upper = country.toUpperCase();
  if (!policy.isLive(upper)) {
    return { available: false, code: 'SUPPORT_CHAT_NOT_AVAILABLE_IN_COUNTRY', message: `chat support is not available in your country (${upper}) yet` };
  }
  if (!policy.isLive(upper, app)) {
    return {
      available: false,
      code: 'SUPPORT_CHAT_NOT_AVAILABLE_IN_APP',
      message: `chat support is not available in ${app} in ${upper} yet; it is available in ${policy.liveApps(upper).join(', ')}`,
    };
  }
  return { available: true };
}
