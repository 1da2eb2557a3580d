import { ConfigError, loadConfig } from '@pay/config';
import { PayHubConfig } from './config';
import { authorizationUrl, pkceChallenge, pkcePair } from './oidc';

describe('PKCE and the authorization request', () => {
  it("derives the S256 challenge as RFC 7636's example does", () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const pair = pkcePair();
    expect(pair.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pair.challenge).toBe(pkceChallenge(pair.verifier));
    expect(pkcePair().verifier).not.toBe(pair.verifier);
  });

  it('asks for a code with the challenge, state and nonce', () => {
    const url = new URL(
      authorizationUrl(
        {
          issuer: 'https://id.example',
          authorization_endpoint: 'https://id.example/authorize',
          token_endpoint: 'https://id.example/token',
          jwks_uri: 'https://id.example/jwks',
        },
        { issuer: 'https://id.example', clientId: 'pay-hub', redirectUri: 'https://pay.example/bff/callback', scopes: 'openid' },
        { state: 's-1', nonce: 'n-1', codeChallenge: 'c-1' },
      ),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'pay-hub',
      redirect_uri: 'https://pay.example/bff/callback',
      scope: 'openid',
      state: 's-1',
      nonce: 'n-1',
      code_challenge: 'c-1',
      code_challenge_method: 'S256',
    });
  });
});

describe("the hub's configuration", () => {
  const jwk = JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' });

  it('refuses development sign-in in production, naming the variable', () => {
    expect(() => loadConfig('pay-hub', PayHubConfig, { NODE_ENV: 'production', HUB_SIGN_IN: 'development', HUB_DEV_SIGNING_JWK: jwk })).toThrow(
      /HUB_SIGN_IN must be development or oidc, and oidc in production/,
    );
    expect(() => loadConfig('pay-hub', PayHubConfig, { NODE_ENV: 'production' })).toThrow(ConfigError);
  });

  it('needs the OIDC issuer and client for oidc, and a signing key for development', () => {
    expect(() => loadConfig('pay-hub', PayHubConfig, { NODE_ENV: 'production', HUB_SIGN_IN: 'oidc' })).toThrow(/OIDC_ISSUER.*OIDC_CLIENT_ID/);
    expect(() => loadConfig('pay-hub', PayHubConfig, { HUB_SIGN_IN: 'development' })).toThrow(/HUB_DEV_SIGNING_JWK/);
    const config = loadConfig('pay-hub', PayHubConfig, {
      NODE_ENV: 'production',
      HUB_SIGN_IN: 'oidc',
      OIDC_ISSUER: 'https://id.example',
      OIDC_CLIENT_ID: 'pay-hub',
      HUB_TRUSTED_PROXIES: '10.42.0.0/16',
    });
    expect(config.OIDC_SCOPES).toBe('openid');
    expect(loadConfig('pay-hub', PayHubConfig, { HUB_DEV_SIGNING_JWK: jwk }).HUB_SIGN_IN).toBe('development');
  });

  it("needs the ingress's addresses in production, where a guessed range would be silently wrong: a list, or none", () => {
    const production = { NODE_ENV: 'production', HUB_SIGN_IN: 'oidc', OIDC_ISSUER: 'https://id.example', OIDC_CLIENT_ID: 'pay-hub' };
    expect(() => loadConfig('pay-hub', PayHubConfig, production)).toThrow(/HUB_TRUSTED_PROXIES must list the ingress's IP addresses.*required in production/);
    expect(() => loadConfig('pay-hub', PayHubConfig, { ...production, HUB_TRUSTED_PROXIES: '' })).toThrow(/HUB_TRUSTED_PROXIES/);
    expect(() => loadConfig('pay-hub', PayHubConfig, { ...production, HUB_TRUSTED_PROXIES: 'ingress.local' })).toThrow(/HUB_TRUSTED_PROXIES/);
    expect(loadConfig('pay-hub', PayHubConfig, { ...production, HUB_TRUSTED_PROXIES: '10.42.0.0/16, 192.0.2.10' }).HUB_TRUSTED_PROXIES).toBe(
      '10.42.0.0/16, 192.0.2.10',
    );
    expect(loadConfig('pay-hub', PayHubConfig, { ...production, HUB_TRUSTED_PROXIES: 'none' }).HUB_TRUSTED_PROXIES).toBe('none');
    // Development (npm start) needs none: nothing proxies the hub there.
    expect(loadConfig('pay-hub', PayHubConfig, { HUB_DEV_SIGNING_JWK: jwk }).HUB_TRUSTED_PROXIES).toBeUndefined();
  });
});
