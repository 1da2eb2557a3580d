import type { SessionUser } from './sessions';

export type Upstream = 'wallet' | 'history';

/**
 * What the hub forwards for whom (least privilege before the services' own checks): a person
 * reaches only their own wallet and history, an analyst only the analysts' history routes. The
 * services still decide; the hub never widens what a token may do. `undefined`: not forwarded.
 */
export function upstreamRoute(user: SessionUser, method: string, path: string): { upstream: Upstream; path: string } | undefined {
  const match = /^\/api\/(wallet|history)(\/v1\/[A-Za-z0-9_.:/-]*)$/.exec(path);
  if (!match || path.includes('..') || path.includes('//')) return undefined;
  const upstream = match[1] as Upstream;
  const rest = match[2];
  const own = encodeURIComponent(user.sub);
  if (user.role === 'person') {
    if (upstream === 'wallet' && (rest === `/v1/wallets/${own}` || rest.startsWith(`/v1/wallets/${own}/`))) {
      // The hub offers the person's own settings and step-up; the service-only instrument routes are not forwarded.
      return rest.startsWith(`/v1/wallets/${own}/payment-instruments`) ? undefined : { upstream, path: rest };
    }
    if (upstream === 'wallet' && rest === '/v1/rollout' && method === 'GET') return { upstream, path: rest };
    if (upstream === 'history' && method === 'GET' && rest.startsWith(`/v1/history/persons/${own}/`)) return { upstream, path: rest };
    return undefined;
  }
  if (upstream === 'history' && method === 'GET' && /^\/v1\/history\/(entries|aggregates)(\/export)?$/.test(rest)) return { upstream, path: rest };
  return undefined;
}
