import { assertionRefusalReason, counterAdvances, passkeyNotVerified, sameCeiling } from './passkey-policy';

describe('passkey policy', () => {
  it('accepts a counter only when it moves forward, or when the authenticator keeps none (0 and 0)', () => {
    expect(counterAdvances(0, 0)).toBe(true);
    expect(counterAdvances(0, 1)).toBe(true);
    expect(counterAdvances(41, 42)).toBe(true);
    expect(counterAdvances(42, 42)).toBe(false);
    expect(counterAdvances(42, 41)).toBe(false);
    expect(counterAdvances(42, 0)).toBe(false);
  });

  it('names why an assertion was refused: user verification first, then the counter, else the response itself', () => {
    expect(assertionRefusalReason({ userVerified: false, storedCounter: 5, receivedCounter: 1 })).toBe('user-not-verified');
    expect(assertionRefusalReason({ userVerified: true, storedCounter: 5, receivedCounter: 5 })).toBe('counter-regressed');
    expect(assertionRefusalReason({ userVerified: true, storedCounter: 5, receivedCounter: 6 })).toBe('invalid-response');
  });

  it('compares ceilings by value, and refuses with a stable code and the reason', () => {
    expect(sameCeiling({ amount: '12500', currency: 'EUR' }, { amount: '12500', currency: 'EUR' })).toBe(true);
    expect(sameCeiling({ amount: '12500', currency: 'EUR' }, { amount: '12501', currency: 'EUR' })).toBe(false);
    expect(sameCeiling({ amount: '12500', currency: 'EUR' }, { amount: '12500', currency: 'USD' })).toBe(false);
    const refusal = passkeyNotVerified('counter-regressed');
    expect(refusal).toMatchObject({ kind: 'refused', code: 'PASSKEY_NOT_VERIFIED', details: { reason: 'counter-regressed' } });
  });
});
