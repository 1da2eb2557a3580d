import { configProblems, loadConfig } from '@pay/config';
import { StripeConfig, stripeSettingsFrom } from './stripe.config';

const load = (env: NodeJS.ProcessEnv) => loadConfig('payment-orchestration', StripeConfig, env);

const problems = (env: NodeJS.ProcessEnv): string => configProblems('payment-orchestration', StripeConfig, env);

describe('Stripe configuration', () => {
  it('talks to the local simulator when no key is set', () => {
    expect(stripeSettingsFrom(load({}))).toEqual({
      secretKey: 'sk_test_simulator',
      webhookSecret: 'whsec_simulator',
      host: '127.0.0.1',
      port: 12111,
      protocol: 'http',
      timeoutMs: 30_000,
      maxNetworkRetries: 2,
      webhookToleranceSeconds: 300,
      simulator: true,
    });
  });

  it('talks to Stripe itself with a key, unless a host is given', () => {
    const settings = stripeSettingsFrom(load({ STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_WEBHOOK_SECRET: 'whsec_abc' }));
    expect(settings).toMatchObject({ secretKey: 'sk_test_abc', webhookSecret: 'whsec_abc', simulator: false });
    expect(settings.host).toBeUndefined();
    const proxied = stripeSettingsFrom(
      load({ STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_WEBHOOK_SECRET: 'whsec_abc', STRIPE_API_HOST: 'stripe-proxy', STRIPE_API_PORT: '8443' }),
    );
    expect(proxied).toMatchObject({ host: 'stripe-proxy', port: 8443 });
  });

  it('requires a real key and secret in production: never the simulator, never its public secret', () => {
    const production = { NODE_ENV: 'production', AUTH_JWKS_URL: 'https://id.example.com/.well-known/jwks.json' };
    expect(problems(production)).toContain('STRIPE_SECRET_KEY is required in production');
    expect(problems({ ...production, STRIPE_SECRET_KEY: 'sk_live_abc', STRIPE_WEBHOOK_SECRET: 'whsec_simulator' })).toContain(
      "STRIPE_WEBHOOK_SECRET must not be the PSP simulator's public signing secret in production",
    );
    expect(problems({ ...production, STRIPE_SECRET_KEY: 'sk_live_abc', STRIPE_WEBHOOK_SECRET: 'whsec_abc' })).not.toMatch(/STRIPE/);
    // Development may name the simulator's secret explicitly.
    expect(problems({ STRIPE_WEBHOOK_SECRET: 'whsec_simulator' })).toBe('');
  });

  it('requires the webhook signing secret with a key, and never sends a live key over http', () => {
    expect(problems({ STRIPE_SECRET_KEY: 'sk_test_abc' })).toContain('STRIPE_WEBHOOK_SECRET is required when STRIPE_SECRET_KEY is set');
    expect(problems({ STRIPE_SECRET_KEY: 'sk_live_abc', STRIPE_WEBHOOK_SECRET: 'whsec_abc', STRIPE_API_PROTOCOL: 'http' })).toContain(
      'STRIPE_API_PROTOCOL must be https with a live STRIPE_SECRET_KEY',
    );
  });

  it('names bad variables, never their values', () => {
    const message = problems({ STRIPE_SECRET_KEY: 'pk_live_secretvalue', STRIPE_TIMEOUT_MS: 'soon', STRIPE_API_PROTOCOL: 'ftp' });
    expect(message).toContain('STRIPE_SECRET_KEY must be a Stripe secret or restricted key');
    expect(message).toContain('STRIPE_TIMEOUT_MS must be a whole number of milliseconds');
    expect(message).toContain('STRIPE_API_PROTOCOL must be http or https');
    expect(message).not.toContain('secretvalue');
  });
});
