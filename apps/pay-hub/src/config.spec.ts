import { loadConfig } from '@pay/config';
import { PayHubConfig } from './config';

const jwk = '{"kty":"EC","d":"x"}';
const production = { NODE_ENV: 'production', HUB_SIGN_IN: 'oidc', OIDC_ISSUER: 'https://id.example', OIDC_CLIENT_ID: 'pay-hub', HUB_TRUSTED_PROXIES: 'none' };

describe("the hub's configuration: when a card setup nobody finished is cancelled", () => {
  it('cancels after an hour unless set; refuses what is not a whole number of seconds in range, and less than 10 minutes in production, naming the variable', () => {
    expect(loadConfig('pay-hub', PayHubConfig, { HUB_DEV_SIGNING_JWK: jwk }).HUB_CARD_SETUP_ABANDON_SECONDS).toBe(3600);
    expect(loadConfig('pay-hub', PayHubConfig, { HUB_DEV_SIGNING_JWK: jwk, HUB_CARD_SETUP_ABANDON_SECONDS: '2' }).HUB_CARD_SETUP_ABANDON_SECONDS).toBe(2);
    for (const bad of ['0', '-5', '1.5', '10m', '604801'])
      expect(() => loadConfig('pay-hub', PayHubConfig, { HUB_DEV_SIGNING_JWK: jwk, HUB_CARD_SETUP_ABANDON_SECONDS: bad })).toThrow(
        /HUB_CARD_SETUP_ABANDON_SECONDS/,
      );
    expect(() => loadConfig('pay-hub', PayHubConfig, { ...production, HUB_CARD_SETUP_ABANDON_SECONDS: '599' })).toThrow(
      /HUB_CARD_SETUP_ABANDON_SECONDS must be at least 600 seconds in production/,
    );
    expect(loadConfig('pay-hub', PayHubConfig, { ...production, HUB_CARD_SETUP_ABANDON_SECONDS: '600' }).HUB_CARD_SETUP_ABANDON_SECONDS).toBe(600);
  });
});
