import { configProblems, loadConfig } from '@pay/config';
import { PayHubConfig } from './config';
import { contentSecurityPolicy, pspBrowserOrigins } from './content-security-policy';

const jwk = '{"kty":"EC","d":"x"}';
const oidc = { NODE_ENV: 'production', HUB_SIGN_IN: 'oidc', OIDC_ISSUER: 'https://id.example', OIDC_CLIENT_ID: 'pay-hub', HUB_TRUSTED_PROXIES: '10.42.0.0/16' };
const cards = { STRIPE_SECRET_KEY: 'rk_live_hubkey', STRIPE_PUBLISHABLE_KEY: 'pk_live_hubkey' };
const simulatorCards = {
  HUB_DEV_SIGNING_JWK: jwk,
  STRIPE_SECRET_KEY: 'sk_test_hubkey',
  STRIPE_PUBLISHABLE_KEY: 'pk_test_hubkey',
  STRIPE_JS_URL: 'http://127.0.0.1:12111/v3',
};
const directive = (policy: string, name: string) => policy.split('; ').find((part) => part.startsWith(`${name} `));

describe("the pages' Content-Security-Policy", () => {
  it("lets Stripe's own Stripe.js run, frame its Elements and 3-D Secure, and call Stripe's API, naming each origin", () => {
    const policy = contentSecurityPolicy(pspBrowserOrigins(loadConfig('pay-hub', PayHubConfig, { ...oidc, ...cards })));
    expect(directive(policy, 'script-src')).toBe("script-src 'self' https://js.stripe.com");
    expect(directive(policy, 'frame-src')).toBe('frame-src https://js.stripe.com https://hooks.stripe.com');
    expect(directive(policy, 'connect-src')).toBe("connect-src 'self' https://api.stripe.com");
    expect(policy).not.toContain('*');
    expect(directive(policy, 'default-src')).toBe("default-src 'self'");
  });

  it("against the simulator allows its origin only, and without cards nothing of a PSP's", () => {
    const policy = contentSecurityPolicy(pspBrowserOrigins(loadConfig('pay-hub', PayHubConfig, simulatorCards)));
    expect(directive(policy, 'script-src')).toBe("script-src 'self' http://127.0.0.1:12111");
    expect(directive(policy, 'frame-src')).toBe('frame-src http://127.0.0.1:12111');
    expect(directive(policy, 'connect-src')).toBe("connect-src 'self'");
    expect(policy).not.toContain('stripe.com');
    const none = contentSecurityPolicy(pspBrowserOrigins(loadConfig('pay-hub', PayHubConfig, { HUB_DEV_SIGNING_JWK: jwk })));
    expect(directive(none, 'script-src')).toBe("script-src 'self'");
    expect(directive(none, 'frame-src')).toBe("frame-src 'none'");
  });

  it("takes the frames and calls from configuration when set, in place of Stripe's list", () => {
    const configured = loadConfig('pay-hub', PayHubConfig, {
      ...oidc,
      ...cards,
      STRIPE_FRAME_ORIGINS: 'https://hooks.stripe.com, https://b.js.stripe.com',
      STRIPE_CONNECT_ORIGINS: 'https://api.stripe.com https://r.stripe.com',
    });
    const policy = contentSecurityPolicy(pspBrowserOrigins(configured));
    expect(directive(policy, 'frame-src')).toBe('frame-src https://js.stripe.com https://hooks.stripe.com https://b.js.stripe.com');
    expect(directive(policy, 'connect-src')).toBe("connect-src 'self' https://api.stripe.com https://r.stripe.com");
  });

  it('refuses a wildcard, a path, a keyword, and plain http in production, naming the variable', () => {
    for (const bad of ['https://*.js.stripe.com', 'https://hooks.stripe.com/redirect', "'unsafe-inline'", '*', 'hooks.stripe.com', 'data:']) {
      expect(configProblems('pay-hub', PayHubConfig, { ...oidc, ...cards, STRIPE_FRAME_ORIGINS: bad })).toMatch(
        /^pay-hub: invalid configuration: STRIPE_FRAME_ORIGINS must list origins without path or wildcard/,
      );
    }
    expect(configProblems('pay-hub', PayHubConfig, { ...oidc, ...cards, STRIPE_CONNECT_ORIGINS: 'http://api.stripe.com' })).toMatch(
      /^pay-hub: invalid configuration: STRIPE_CONNECT_ORIGINS must list origins/,
    );
    expect(configProblems('pay-hub', PayHubConfig, { ...simulatorCards, STRIPE_CONNECT_ORIGINS: 'http://127.0.0.1:12111' })).toBe('');
  });
});
