import { FormBodyError, fingerprintOf, parseFormBody } from './form-body';

describe('form bodies as the Stripe SDK encodes them', () => {
  it('reads nested hashes and indexed arrays', () => {
    const body =
      'amount=1250&currency=eur&metadata[payment_id]=p-1&metadata[note]=a%20b&automatic_payment_methods[enabled]=true&payment_method_types[0]=card&payment_method_types[1]=sepa_debit';
    expect({ ...parseFormBody(body) }).toEqual({
      amount: '1250',
      currency: 'eur',
      metadata: expect.objectContaining({ payment_id: 'p-1', note: 'a b' }),
      automatic_payment_methods: expect.objectContaining({ enabled: 'true' }),
      payment_method_types: ['card', 'sepa_debit'],
    });
  });

  it('gives equal parameters in any order the same fingerprint, and different ones another', () => {
    expect(fingerprintOf(parseFormBody('a=1&b[x]=2&b[y]=3'))).toBe(fingerprintOf(parseFormBody('b[y]=3&a=1&b[x]=2')));
    expect(fingerprintOf(parseFormBody('a=1'))).not.toBe(fingerprintOf(parseFormBody('a=2')));
  });

  it('refuses prototype keys and a key that is both a value and a hash', () => {
    expect(() => parseFormBody('__proto__[polluted]=1')).toThrow(FormBodyError);
    expect(() => parseFormBody('a=1&a[b]=2')).toThrow(/mixes a value and a hash/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
