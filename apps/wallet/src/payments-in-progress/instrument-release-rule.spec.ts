import type { KnownPayment, ReleaseAsk } from './instrument-release-rule';
import { instrumentReleaseRefusal } from './instrument-release-rule';

const ask: ReleaseAsk = { paymentId: 'pay_1', personId: 'person-a', methodId: 'method-a', app: 'facebook' };
const awaiting: KnownPayment = { paymentId: 'pay_1', payerId: 'person-a', paymentMethodId: 'method-a', app: 'facebook', stage: 'awaiting_charge' };

describe('instrumentReleaseRefusal', () => {
  it('releases for a payment of that payer, method and app that awaits its charge', () => {
    expect(instrumentReleaseRefusal(awaiting, ask)).toBeUndefined();
  });

  it('asks to come back for a payment the wallet has not seen', () => {
    expect(instrumentReleaseRefusal(undefined, ask)).toBe('PAYMENT_NOT_KNOWN_YET');
  });

  it("answers as if there were no payment for another person's, another method's or another app's", () => {
    expect(instrumentReleaseRefusal(awaiting, { ...ask, personId: 'person-b' })).toBe('PAYMENT_NOT_FOUND');
    expect(instrumentReleaseRefusal(awaiting, { ...ask, methodId: 'method-b' })).toBe('PAYMENT_NOT_FOUND');
    expect(instrumentReleaseRefusal(awaiting, { ...ask, app: 'instagram' })).toBe('PAYMENT_NOT_FOUND');
    expect(instrumentReleaseRefusal({ ...awaiting, paymentMethodId: null }, ask)).toBe('PAYMENT_NOT_FOUND');
  });

  it('refuses once the payment is past its charge, also when its later events came first', () => {
    expect(instrumentReleaseRefusal({ ...awaiting, stage: 'past_charge' }, ask)).toBe('PAYMENT_NOT_AWAITING_CHARGE');
    expect(instrumentReleaseRefusal({ paymentId: 'pay_1', payerId: null, paymentMethodId: null, app: null, stage: 'past_charge' }, ask)).toBe(
      'PAYMENT_NOT_AWAITING_CHARGE',
    );
  });
});
