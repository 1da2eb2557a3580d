import { parseRolloutFile } from './rollout-file';
import { RolloutError, RolloutPolicy } from './rollout-policy';

describe('RolloutPolicy', () => {
  const policy = new RolloutPolicy([
    { country: 'DE', apps: ['facebook', 'messenger'] },
    { country: 'BR', apps: [] },
  ]);

  it('is live only in listed countries with at least one app, and only in those apps', () => {
    expect(policy.isLive('DE')).toBe(true);
    expect(policy.isLive('de', 'messenger')).toBe(true);
    expect(policy.isLive('DE', 'whatsapp')).toBe(false);
    expect(policy.isLive('BR')).toBe(false);
    expect(policy.isLive('JP')).toBe(false);
    expect(policy.liveCountries()).toEqual(['DE']);
    expect(policy.liveApps('DE')).toEqual(['facebook', 'messenger']);
  });

  it('explains a refusal by country or by app', () => {
    expect(() => policy.assertLive('JP')).toThrow(new RolloutError('PAY_NOT_AVAILABLE_IN_COUNTRY', 'Pay is not available in JP yet', 'JP'));
    expect(() => policy.assertLive('BR', 'whatsapp')).toThrow(/not available in BR/);
    let error: RolloutError | undefined;
    try {
      policy.assertLive('DE', 'whatsapp');
    } catch (caught) {
      error = caught as RolloutError;
    }
    expect(error).toMatchObject({ code: 'PAY_NOT_AVAILABLE_IN_APP', country: 'DE', app: 'whatsapp' });
    expect(error?.message).toBe('Pay is not available in whatsapp in DE yet; it is available in facebook, messenger');
  });
});

describe('parseRolloutFile', () => {
  it('reads countries and apps', () => {
    expect(parseRolloutFile('{"countries":[{"country":"US","apps":["facebook","whatsapp"]}]}')).toEqual([{ country: 'US', apps: ['facebook', 'whatsapp'] }]);
  });

  it.each([
    ['not JSON', '{"countries": [', /not valid JSON/],
    ['a typo in a key', '{"contries": []}', /property contries should not exist/],
    ['an unknown app', '{"countries":[{"country":"US","apps":["myspace"]}]}', /each app must be one of facebook, instagram, messenger, whatsapp/],
    ['a lower-case country', '{"countries":[{"country":"us","apps":[]}]}', /upper-case ISO 3166-1/],
    ['a country twice', '{"countries":[{"country":"US","apps":[]},{"country":"US","apps":["facebook"]}]}', /US is listed twice/],
    ['an array', '[]', /must be a JSON object/],
  ])('refuses %s', (_case, text, message) => {
    expect(() => parseRolloutFile(text)).toThrow(message);
  });
});
