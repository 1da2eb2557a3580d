import type { InboxSubscription } from '@pay/messaging';

/**
 * The service's consumer groups with the configured session timeout (KAFKA_SESSION_TIMEOUT_MS):
 * a subscription that names its own keeps it; unset, each keeps the consumers' default.
 */
export function withSessionTimeout(subscriptions: readonly InboxSubscription[], sessionTimeoutMs: number | undefined): InboxSubscription[] {
  if (sessionTimeoutMs === undefined) return [...subscriptions];
  return subscriptions.map((subscription) => ({ ...subscription, options: { sessionTimeoutMs, ...subscription.options } }));
}
