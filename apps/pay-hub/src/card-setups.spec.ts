import { configProblems, loadConfig } from '@pay/config';
import { CardSetups } from './card-setups';
import { PayHubConfig } from './config';

const jwk = '{"kty":"EC","d":"x"}';
const oidc = { NODE_ENV: 'production', HUB_SIGN_IN: 'oidc', OIDC_ISSUER: 'https://id.example', OIDC_CLIENT_ID: 'pay-hub', HUB_TRUSTED_PROXIES: '10.42.0.0/16' };
const cards = { STRIPE_SECRET_KEY: 'rk_live_hubkey', STRIPE_PUBLISHABLE_KEY: 'pk_live_hubkey' };

describe('where the methods page loads Stripe.js from (STRIPE_JS_URL)', () => {
  it("is Stripe's own unless set, and its origin is the one the pages may run scripts of and frame", () => {
    const config = loadConfig('pay-hub', PayHubConfig, { ...oidc, ...cards });
    expect(config.STRIPE_JS_URL).toBe('https://js.stripe.com/v3');
    expect(CardSetups.from(config)?.stripeJsOrigin).toBe('https://js.stripe.com');
    const simulator = loadConfig('pay-hub', PayHubConfig, {
      HUB_DEV_SIGNING_JWK: jwk,
      STRIPE_SECRET_KEY: 'sk_test_hubkey',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_hubkey',
      STRIPE_JS_URL: 'http://127.0.0.1:12111/v3',
    });
    expect(CardSetups.from(simulator)?.stripeJsOrigin).toBe('http://127.0.0.1:12111');
  });

  it('adds no cards without both keys, and asks for the publishable key with the secret one', () => {
    expect(CardSetups.from(loadConfig('pay-hub', PayHubConfig, { HUB_DEV_SIGNING_JWK: jwk }))).toBeUndefined();
    expect(configProblems('pay-hub', PayHubConfig, { HUB_DEV_SIGNING_JWK: jwk, STRIPE_SECRET_KEY: 'sk_test_hubkey' })).toContain(
      'STRIPE_PUBLISHABLE_KEY must be a Stripe publishable key (pk_…), required with STRIPE_SECRET_KEY',
    );
  });

  it('refuses plain http in production or with a live key, and a URL that is not one, naming the variable', () => {
    const http = 'http://stripe-js.internal/v3';
    expect(configProblems('pay-hub', PayHubConfig, { ...oidc, ...cards, STRIPE_JS_URL: http })).toContain(
      'STRIPE_JS_URL must be https in production and with a live STRIPE_PUBLISHABLE_KEY',
    );
    expect(configProblems('pay-hub', PayHubConfig, { HUB_DEV_SIGNING_JWK: jwk, ...cards, STRIPE_JS_URL: http })).toContain('STRIPE_JS_URL must be https');
    for (const bad of ['js.stripe.com/v3', 'https://js.stripe.com', 'https://js.stripe.com/v3?x=1', 'javascript:alert(1)//x/']) {
      expect(configProblems('pay-hub', PayHubConfig, { HUB_DEV_SIGNING_JWK: jwk, STRIPE_JS_URL: bad })).toContain(
        'STRIPE_JS_URL must be the http(s) URL of Stripe.js without query or fragment',
      );
    }
  });
});
