import { randomBytes } from 'node:crypto';
import { configProblems, loadConfig } from '@pay/config';
import { WalletConfig } from './config';

const problems = (env: Record<string, string>): string => configProblems('wallet', WalletConfig, env);

describe('WalletConfig', () => {
  it('starts in development with safe defaults', () => {
    const config = loadConfig('wallet', WalletConfig, {});
    expect(config).toMatchObject({ PIN_MAX_ATTEMPTS: 5, PIN_LOCKOUT_SECONDS: 900, STEP_UP_TTL_SECONDS: 120, ROLLOUT_CONFIG_PATH: 'config/rollout.json' });
    expect(config.AD_CONSENT_GRANTED_BY_DEFAULT_COUNTRIES).toEqual([]);
    expect(loadConfig('wallet', WalletConfig, { AD_CONSENT_GRANTED_BY_DEFAULT_COUNTRIES: 'us, br' }).AD_CONSENT_GRANTED_BY_DEFAULT_COUNTRIES).toEqual([
      'US',
      'BR',
    ]);
    expect(problems({ AD_CONSENT_OPT_IN_COUNTRIES: 'DE' })).toMatch(/AD_CONSENT_OPT_IN_COUNTRIES .*removed.*AD_CONSENT_GRANTED_BY_DEFAULT_COUNTRIES/);
  });

  it('refuses development keys and a missing token key set in production, naming each variable', () => {
    const message = problems({ NODE_ENV: 'production' });
    expect(message).toMatch(/AUTH_JWKS .*required in production/);
    expect(message).toMatch(/STEP_UP_SIGNING_JWK .*required in production/);
    expect(message).toMatch(/WALLET_MASTER_KEY_ID must not use the development master key in production/);
    expect(message).toMatch(/KAFKA_SASL_MECHANISM must be scram-sha-256 or scram-sha-512 \(required in production/);
  });

  it('takes production keys, and never prints key material when they are wrong', () => {
    const key = randomBytes(32).toString('base64');
    const jwk = JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'secret-d', kid: 'k1' });
    // Everything production needs but the Stripe key.
    const production = {
      NODE_ENV: 'production',
      AUTH_KEY_GRANTS: '{}',
      AUTH_JWKS_URL: 'https://id.example.com/jwks.json',
      STEP_UP_SIGNING_JWK: jwk,
      WALLET_MASTER_KEYS: `k1:${key}`,
      WALLET_MASTER_KEY_ID: 'k1',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'kafka-password',
      WEBAUTHN_RP_ID: 'pay.example.com',
      WEBAUTHN_ORIGINS: 'https://hub.pay.example.com',
    };
    expect(problems({ ...production, STRIPE_SECRET_KEY: 'rk_live_walletAchSetups' })).toBe('');
    // US bank accounts are verified at Stripe: production names the missing key, and takes no simulator.
    expect(problems(production)).toContain('STRIPE_SECRET_KEY is required in production');
    // The live key goes to Stripe: never in clear text, as payment-orchestration's.
    expect(problems({ STRIPE_SECRET_KEY: 'rk_live_walletAchSetups', STRIPE_API_PROTOCOL: 'http' })).toContain(
      'STRIPE_API_PROTOCOL must be https with a live STRIPE_SECRET_KEY',
    );
    const short = randomBytes(16).toString('base64');
    const message = problems({
      WALLET_MASTER_KEYS: `k1:${short}`,
      WALLET_MASTER_KEY_ID: 'k1',
      AUTH_JWKS: JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }),
    });
    expect(message).toMatch(/WALLET_MASTER_KEY_ID .*master key k1 must be 32 bytes/);
    expect(message).toMatch(/AUTH_JWKS .*public keys only/);
    expect(message).not.toContain(short);
    expect(message).not.toContain('c2VjcmV0');
  });

  it('bounds the PIN and step-up settings', () => {
    expect(problems({ PIN_MAX_ATTEMPTS: '50' })).toMatch(/PIN_MAX_ATTEMPTS must be a whole number from 3 to 10/);
    expect(problems({ STEP_UP_TTL_SECONDS: '3600' })).toMatch(/STEP_UP_TTL_SECONDS must be a whole number of seconds from 10 to 900/);
    expect(problems({ ROLLOUT_CONFIG_PATH: 'config/rollout.yaml' })).toMatch(/ROLLOUT_CONFIG_PATH must be the path of a JSON file/);
  });

  it("reads the passkeys' relying party, and refuses localhost or plain http in production", () => {
    expect(loadConfig('wallet', WalletConfig, {})).toMatchObject({ WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: ['http://localhost:5173'] });
    expect(loadConfig('wallet', WalletConfig, { WEBAUTHN_ORIGINS: 'https://hub.pay.example.com, http://localhost:4173' }).WEBAUTHN_ORIGINS).toEqual([
      'https://hub.pay.example.com',
      'http://localhost:4173',
    ]);
    expect(problems({ WEBAUTHN_ORIGINS: 'hub.pay.example.com' })).toMatch(/WEBAUTHN_ORIGINS must be a comma-separated list of origins/);
    expect(problems({ WEBAUTHN_ORIGINS: 'http://hub.pay.example.com' })).toMatch(/WEBAUTHN_ORIGINS must be a comma-separated list of origins/);
    expect(problems({ WEBAUTHN_RP_ID: 'https://pay.example.com' })).toMatch(/WEBAUTHN_RP_ID must be a domain name/);
    expect(problems({ WEBAUTHN_CHALLENGE_TTL_SECONDS: '3600' })).toMatch(/WEBAUTHN_CHALLENGE_TTL_SECONDS must be a whole number of seconds from 10 to 600/);
    const production = problems({ NODE_ENV: 'production' });
    expect(production).toMatch(/WEBAUTHN_RP_ID must be the production domain, not localhost/);
    expect(production).toMatch(/WEBAUTHN_ORIGINS must list https:\/\/ origins only/);
  });

  it('reads the escalating lockouts and the attempt rates, naming a bad one', () => {
    const config = loadConfig('wallet', WalletConfig, {});
    expect(config).toMatchObject({
      PIN_LATER_LOCKOUTS_SECONDS: [3600, 86400],
      PIN_ATTEMPTS_PER_PERSON_PER_MINUTE: 10,
      PIN_ATTEMPTS_PER_CALLER_PER_MINUTE: 600,
    });
    expect(loadConfig('wallet', WalletConfig, { PIN_LATER_LOCKOUTS_SECONDS: ' 1800, 7200 ' }).PIN_LATER_LOCKOUTS_SECONDS).toEqual([1800, 7200]);
    expect(loadConfig('wallet', WalletConfig, { PIN_LATER_LOCKOUTS_SECONDS: 'none' }).PIN_LATER_LOCKOUTS_SECONDS).toEqual([]);
    expect(problems({ PIN_LATER_LOCKOUTS_SECONDS: '3600,1h' })).toMatch(
      /PIN_LATER_LOCKOUTS_SECONDS must be a comma-separated list of at most 10 whole numbers of seconds/,
    );
    expect(problems({ PIN_LATER_LOCKOUTS_SECONDS: '0' })).toMatch(/PIN_LATER_LOCKOUTS_SECONDS must be/);
    expect(problems({ PIN_ATTEMPTS_PER_PERSON_PER_MINUTE: '0' })).toMatch(/PIN_ATTEMPTS_PER_PERSON_PER_MINUTE must be a whole number from 1 to 1000/);
    expect(problems({ PIN_ATTEMPTS_PER_CALLER_PER_MINUTE: 'lots' })).toMatch(/PIN_ATTEMPTS_PER_CALLER_PER_MINUTE must be a whole number/);
  });
});
