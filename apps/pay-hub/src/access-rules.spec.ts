import { upstreamRoute } from './access-rules';

describe('what the hub forwards for whom', () => {
  const person = { sub: 'person-1', role: 'person' as const };
  const analyst = { sub: 'analyst-1', role: 'analyst' as const };

  it("forwards a person's own wallet and history, and nobody else's", () => {
    expect(upstreamRoute(person, 'GET', '/api/wallet/v1/wallets/person-1')).toEqual({ upstream: 'wallet', path: '/v1/wallets/person-1' });
    expect(upstreamRoute(person, 'POST', '/api/wallet/v1/wallets/person-1/step-up/pin')).toEqual({
      upstream: 'wallet',
      path: '/v1/wallets/person-1/step-up/pin',
    });
    expect(upstreamRoute(person, 'GET', '/api/history/v1/history/persons/person-1/entries')).toBeDefined();
    expect(upstreamRoute(person, 'GET', '/api/wallet/v1/wallets/person-2')).toBeUndefined();
    expect(upstreamRoute(person, 'GET', '/api/wallet/v1/wallets/person-10')).toBeUndefined();
    expect(upstreamRoute(person, 'GET', '/api/history/v1/history/persons/person-2/entries')).toBeUndefined();
    expect(upstreamRoute(person, 'GET', '/api/history/v1/history/entries')).toBeUndefined();
    expect(upstreamRoute(person, 'GET', '/api/wallet/v1/wallets/person-1/payment-instruments/preferred')).toBeUndefined();
    expect(upstreamRoute(person, 'GET', '/api/wallet/v1/ledger/accounts/x')).toBeUndefined();
    expect(upstreamRoute(person, 'GET', '/api/wallet/v1/wallets/person-1/../person-2')).toBeUndefined();
  });

  it("forwards an analyst's history queries, and no wallet", () => {
    expect(upstreamRoute(analyst, 'GET', '/api/history/v1/history/entries')).toEqual({ upstream: 'history', path: '/v1/history/entries' });
    expect(upstreamRoute(analyst, 'GET', '/api/history/v1/history/aggregates/export')).toBeDefined();
    expect(upstreamRoute(analyst, 'POST', '/api/history/v1/history/entries')).toBeUndefined();
    expect(upstreamRoute(analyst, 'GET', '/api/wallet/v1/wallets/analyst-1')).toBeUndefined();
    expect(upstreamRoute(analyst, 'GET', '/api/history/v1/history/read-model')).toBeUndefined();
  });
});
