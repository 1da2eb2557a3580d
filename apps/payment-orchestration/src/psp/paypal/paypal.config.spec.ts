import { configProblems, loadConfig } from '@pay/config';
import { PayPalConfig, payPalSettingsFrom } from './paypal.config';

const load = (env: NodeJS.ProcessEnv) => loadConfig('payment-orchestration', PayPalConfig, env);

const problems = (env: NodeJS.ProcessEnv): string => configProblems('payment-orchestration', PayPalConfig, env);

const LIVE = { PAYPAL_CLIENT_ID: 'AbC123live', PAYPAL_CLIENT_SECRET: 'EFG-secret', PAYPAL_WEBHOOK_ID: '8PT597110X687430LKGECATA' };

describe('PayPal configuration', () => {
  it('talks to the local simulator, with its public client, when no client id is set; trusts certificates from it only', () => {
    expect(payPalSettingsFrom(load({}))).toMatchObject({
      clientId: 'paypal-simulator-client',
      apiUrl: 'http://127.0.0.1:12111',
      environment: 'sandbox',
      certUrlPrefixes: ['http://127.0.0.1:12111/v1/notifications/certs/'],
      simulator: true,
    });
  });

  it("with a client: PayPal's own host, certificates from PayPal's hosts only", () => {
    const settings = payPalSettingsFrom(load({ ...LIVE, PAYPAL_ENVIRONMENT: 'production' }));
    expect(settings).toMatchObject({ clientId: 'AbC123live', environment: 'production', simulator: false });
    expect(settings.apiUrl).toBeUndefined();
    expect(settings.certUrlPrefixes.every((prefix) => prefix.startsWith('https://api'))).toBe(true);
  });

  it('refuses what would be unsafe, naming the variable', () => {
    expect(problems({ NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' })).toMatch(/PAYPAL_CLIENT_ID/);
    expect(problems({ PAYPAL_CLIENT_ID: 'AbC123' })).toMatch(/PAYPAL_CLIENT_SECRET/);
    expect(problems({ PAYPAL_CLIENT_ID: 'AbC123', PAYPAL_CLIENT_SECRET: 's' })).toMatch(/PAYPAL_WEBHOOK_ID/);
    expect(problems({ ...LIVE, PAYPAL_ENVIRONMENT: 'production', PAYPAL_API_URL: 'http://proxy.internal:8080' })).toMatch(/PAYPAL_API_URL/);
    expect(problems({ PAYPAL_API_URL: 'http://127.0.0.1:12111/v2' })).toMatch(/PAYPAL_API_URL/);
    expect(problems({ PAYPAL_ENVIRONMENT: 'live' })).toMatch(/PAYPAL_ENVIRONMENT/);
    expect(
      problems({
        ...LIVE,
        PAYPAL_CLIENT_ID: 'paypal-simulator-client',
        NODE_ENV: 'production',
        STRIPE_SECRET_KEY: 'sk_live_x',
        STRIPE_WEBHOOK_SECRET: 'whsec_x',
      }),
    ).toMatch(/PAYPAL_CLIENT_ID/);
  });
});
