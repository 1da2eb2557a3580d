import type { SessionUser } from './sessions';

export type Upstream = 'wallet' | 'history' | 'support';

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/**
 * A support agent's desk (docs/support-chat.md): the queue, their conversations, claim, hand over,
 * close, the payment's timeline, and a refund of that payment (the service checks the limits).
 */
const AGENT_ROUTES: ReadonlyArray<{ method: string; path: RegExp }> = [
  { method: 'GET', path: /^\/v1\/support\/queue$/ },
  { method: 'GET', path: /^\/v1\/support\/agents\/me\/conversations$/ },
  { method: 'POST', path: new RegExp(`^/v1/support/conversations/${UUID}/(claim|hand-over|close)$`) },
  { method: 'GET', path: new RegExp(`^/v1/support/conversations/${UUID}/payment$`) },
  { method: 'POST', path: new RegExp(`^/v1/support/conversations/${UUID}/refunds$`) },
];

/**
 * What the hub forwards for whom (least privilege before the services' own checks): a person
 * reaches only their own wallet and history, an analyst only the analysts' history routes, a
 * support agent only the agents' desk of the support service. The services still decide; the hub
 * never widens what a token may do. `undefined`: not forwarded.
 */
export function upstreamRoute(user: SessionUser, method: string, path: string): { upstream: Upstream; path: string } | undefined {
  const match = /^\/api\/(wallet|history|support)(\/v1\/[A-Za-z0-9_.:/-]*)$/.exec(path);
  if (!match || path.includes('..') || path.includes('//')) return undefined;
  const upstream = match[1] as Upstream;
  const rest = match[2];
  const own = encodeURIComponent(user.sub);
  switch (user.role) {
    case 'person':
      if (upstream === 'wallet' && (rest === `/v1/wallets/${own}` || rest.startsWith(`/v1/wallets/${own}/`))) {
        // The hub offers the person's own settings and step-up; the service-only instrument routes are not forwarded,
        // nor bank accounts: the hub saves those itself with its attestation of the mandate (/bff/…bank-accounts).
        if (rest.startsWith(`/v1/wallets/${own}/payment-instruments`)) return undefined;
        if (method === 'POST' && /\/payment-methods\/(us-)?bank-accounts$/.test(rest)) return undefined;
        return { upstream, path: rest };
      }
      if (upstream === 'wallet' && rest === '/v1/rollout' && method === 'GET') return { upstream, path: rest };
      if (upstream === 'history' && method === 'GET' && rest.startsWith(`/v1/history/persons/${own}/`)) return { upstream, path: rest };
      return undefined;
    case 'analyst':
      if (upstream === 'history' && method === 'GET' && /^\/v1\/history\/(entries|aggregates)(\/export)?$/.test(rest)) return { upstream, path: rest };
      return undefined;
    case 'support':
      if (upstream === 'support' && AGENT_ROUTES.some((route) => route.method === method && route.path.test(rest))) return { upstream, path: rest };
      return undefined;
  }
}

/** The chat's WebSocket through the hub (socket.io's path), for support agents only. */
export const SUPPORT_SOCKET_PATH = '/api/support/socket.io/';

export function maySupportSocket(user: SessionUser | undefined): boolean {
  return user?.role === 'support';
}
