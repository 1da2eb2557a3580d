import { getMetadataStorage } from 'class-validator';
import { createEvent, InvalidEventError } from '../envelope/event-registry';
import { PaymentMethodAddedV1, WALLET_EVENTS, WalletAppsChangedV1 } from './wallet-events';

/** Names that would mean a secret or free text travels on the topic (`has…` flags aside). */
const FORBIDDEN = /iban|^pin|pin$|email|phone|number|cvc|cvv|^pan$|token|secret|label|name|holder|address/i;

describe('wallet events', () => {
  it('declare no field that could carry a secret or free text', () => {
    const metadata = getMetadataStorage();
    for (const definition of WALLET_EVENTS) {
      const fields = metadata.getTargetValidationMetadatas(definition.dataClass, '', true, false).map((m) => m.propertyName);
      const offending = fields.filter((name) => !/^has[A-Z]/.test(name) && FORBIDDEN.test(name));
      expect({ type: definition.type, offending }).toEqual({ type: definition.type, offending: [] });
    }
  });

  it('travel on wallet.events.v1 and validate their data', () => {
    for (const definition of WALLET_EVENTS) expect(definition.topic).toBe('wallet.events.v1');
    const event = createEvent({
      definition: PaymentMethodAddedV1,
      source: 'wallet',
      subject: 'person-1',
      sequence: 2,
      data: {
        personId: 'person-1',
        actor: 'person:person-1',
        methodId: '7f1d3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
        kind: 'card',
        display: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 },
        preferred: true,
      },
    });
    expect(event.data.display.last4).toBe('4242');
    expect(() =>
      createEvent({
        definition: WalletAppsChangedV1,
        source: 'wallet',
        subject: 'person-1',
        sequence: 3,
        data: { personId: 'person-1', actor: 'person:person-1', apps: ['facebook', 'myspace'], enabled: [], disabled: [] },
      }),
    ).toThrow(InvalidEventError);
  });

  it("name who made a change: a role and its id, and the app's backend a person's change came through", () => {
    const apps = (actor: string) => () =>
      createEvent({
        definition: WalletAppsChangedV1,
        source: 'wallet',
        subject: 'person-1',
        sequence: 3,
        data: { personId: 'person-1', actor, apps: ['instagram'], enabled: ['instagram'], disabled: [] },
      });
    for (const actor of ['person:person-1', 'service:instagram-backend', 'system:consent-opt-in', 'person:person-1 via instagram-backend']) {
      expect(apps(actor)).not.toThrow();
    }
    for (const actor of [
      'person-1',
      'admin:root',
      'person:person-1 via',
      'person:person-1 via two words',
      'person:person-1  via x',
      'person:p-1 via x via y',
      'person:p 1',
    ]) {
      expect(apps(actor)).toThrow(InvalidEventError);
    }
  });
});
