import { maySupportSocket, upstreamRoute } from './access-rules';

describe('what the hub forwards for whom', () => {
  const person = { sub: 'person-1', role: 'person' as const };
  const analyst = { sub: 'analyst-1', role: 'analyst' as const };
  const agent = { sub: 'agent-1', role: 'support' as const };
  const conversation = '5d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23';

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

  it("does not forward a person's own bank account: the hub saves it itself, with its attestation of the mandate", () => {
    expect(upstreamRoute(person, 'POST', '/api/wallet/v1/wallets/person-1/payment-methods/bank-accounts')).toBeUndefined();
    expect(upstreamRoute(person, 'POST', '/api/wallet/v1/wallets/person-1/payment-methods/us-bank-accounts')).toBeUndefined();
    // Its micro-deposits, and the list, are the person's own routes.
    expect(upstreamRoute(person, 'POST', '/api/wallet/v1/wallets/person-1/payment-methods/m-1/microdeposits')).toBeDefined();
    expect(upstreamRoute(person, 'GET', '/api/wallet/v1/wallets/person-1/payment-methods')).toBeDefined();
  });

  it("forwards an analyst's history queries, and no wallet", () => {
    expect(upstreamRoute(analyst, 'GET', '/api/history/v1/history/entries')).toEqual({ upstream: 'history', path: '/v1/history/entries' });
    expect(upstreamRoute(analyst, 'GET', '/api/history/v1/history/aggregates/export')).toBeDefined();
    expect(upstreamRoute(analyst, 'POST', '/api/history/v1/history/entries')).toBeUndefined();
    expect(upstreamRoute(analyst, 'GET', '/api/wallet/v1/wallets/analyst-1')).toBeUndefined();
    expect(upstreamRoute(analyst, 'GET', '/api/history/v1/history/read-model')).toBeUndefined();
  });

  it("forwards a support agent's desk, and nothing else of any service", () => {
    expect(upstreamRoute(agent, 'GET', '/api/support/v1/support/queue')).toEqual({ upstream: 'support', path: '/v1/support/queue' });
    expect(upstreamRoute(agent, 'GET', '/api/support/v1/support/agents/me/conversations')).toBeDefined();
    for (const action of ['claim', 'hand-over', 'close']) {
      expect(upstreamRoute(agent, 'POST', `/api/support/v1/support/conversations/${conversation}/${action}`)).toBeDefined();
    }
    expect(upstreamRoute(agent, 'GET', `/api/support/v1/support/conversations/${conversation}/payment`)).toBeDefined();
    expect(upstreamRoute(agent, 'GET', `/api/support/v1/support/conversations/${conversation}/claim`)).toBeUndefined();
    expect(upstreamRoute(agent, 'POST', `/api/support/v1/support/conversations/${conversation}/refunds`)).toEqual({
      upstream: 'support',
      path: `/v1/support/conversations/${conversation}/refunds`,
    });
    expect(upstreamRoute(agent, 'GET', `/api/support/v1/support/conversations/${conversation}/refunds`)).toBeUndefined();
    expect(upstreamRoute(agent, 'POST', '/api/support/v1/support/conversations')).toBeUndefined();
    expect(upstreamRoute(agent, 'POST', '/api/support/v1/support/conversations/not-a-uuid/claim')).toBeUndefined();
    expect(upstreamRoute(agent, 'GET', '/api/wallet/v1/wallets/agent-1')).toBeUndefined();
    expect(upstreamRoute(agent, 'GET', '/api/history/v1/history/entries')).toBeUndefined();
    expect(maySupportSocket(agent)).toBe(true);
  });

  it('forwards nothing of the support desk, nor its WebSocket, to a person or an analyst', () => {
    for (const user of [person, analyst]) {
      expect(upstreamRoute(user, 'GET', '/api/support/v1/support/queue')).toBeUndefined();
      expect(upstreamRoute(user, 'POST', `/api/support/v1/support/conversations/${conversation}/claim`)).toBeUndefined();
      expect(upstreamRoute(user, 'GET', `/api/support/v1/support/conversations/${conversation}/payment`)).toBeUndefined();
      expect(upstreamRoute(user, 'POST', `/api/support/v1/support/conversations/${conversation}/refunds`)).toBeUndefined();
      expect(maySupportSocket(user)).toBe(false);
    }
    expect(maySupportSocket(undefined)).toBe(false);
  });
});
