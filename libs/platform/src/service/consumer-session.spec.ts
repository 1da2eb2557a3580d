import type { InboxSubscription } from '@pay/messaging';
import { withSessionTimeout } from './consumer-session';

describe('withSessionTimeout', () => {
  const plain: InboxSubscription = { name: 'ledger', groupId: 'wallet.ledger', topics: ['payments.events.v1'], options: { gatherMs: 50 } };
  const own: InboxSubscription = { name: 'funds', groupId: 'wallet.funds', topics: ['wallet.commands.v1'], options: { sessionTimeoutMs: 45_000 } };
  const bare: InboxSubscription = { name: 'history', groupId: 'history', topics: ['payments.events.v1'] };

  it('gives every consumer the configured session timeout, keeping its other options', () => {
    const [ledger, , history] = withSessionTimeout([plain, own, bare], 20_000);
    expect(ledger.options).toEqual({ sessionTimeoutMs: 20_000, gatherMs: 50 });
    expect(history.options).toEqual({ sessionTimeoutMs: 20_000 });
  });

  it('leaves a consumer that names its own session timeout with it', () => {
    expect(withSessionTimeout([own], 20_000)[0].options).toEqual({ sessionTimeoutMs: 45_000 });
  });

  it('changes nothing when none is configured (the consumers keep their default)', () => {
    expect(withSessionTimeout([plain, bare], undefined)).toEqual([plain, bare]);
  });
});
