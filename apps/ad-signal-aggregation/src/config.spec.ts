import { configProblems, loadConfig } from '@pay/config';
import { settingsFrom } from './ad-signals.settings';
import { AdSignalAggregationConfig, DEVELOPMENT_PSEUDONYM_KEY } from './config';

const load = (env: Record<string, string>): AdSignalAggregationConfig => loadConfig('ad-signal-aggregation', AdSignalAggregationConfig, env);

const problems = (env: Record<string, string>): string => configProblems('ad-signal-aggregation', AdSignalAggregationConfig, env);

describe('ad-signal-aggregation configuration', () => {
  it('starts with the documented privacy defaults: k 100, 5 purchases per person, no noise', () => {
    const settings = settingsFrom(load({}));
    expect(settings.policy).toMatchObject({ k: 100, maxPurchasesPerPerson: 5 });
    expect(settings.policy.differentialPrivacy).toBeUndefined();
    expect(settings.policy.groupings).toEqual([[], ['app'], ['country'], ['merchantCategory'], ['paymentMethodType'], ['amountBucket']]);
    expect(settings.graceMs).toBe(900_000);
    expect(settings.topics).toEqual({ paymentEvents: 'payments.events.v1', walletEvents: 'wallet.events.v1', aggregates: 'ad-signals.aggregates.v1' });
  });

  it('turns differential privacy on with its ε, amount clamp and advertiser budget', () => {
    const settings = settingsFrom(
      load({
        AD_SIGNALS_DP_ENABLED: 'true',
        AD_SIGNALS_DP_EPSILON_PER_WINDOW: '0.5',
        AD_SIGNALS_DP_MAX_AMOUNT_MINOR: '20000',
        AD_SIGNALS_DP_ADVERTISER_BUDGET: '12.5',
      }),
    );
    expect(settings.policy.differentialPrivacy).toEqual({ epsilonPerWindow: 0.5, maxAmountMinor: 20_000n });
    expect(settings.advertiserBudget).toBe(12.5);
  });

  it('names each bad variable and what it accepts, never the value', () => {
    const message = problems({
      AD_SIGNALS_K: '1',
      AD_SIGNALS_GROUPINGS: 'app;email',
      AD_SIGNALS_AMOUNT_BUCKETS: '500,100',
      AD_SIGNALS_DP_EPSILON_PER_WINDOW: '-1',
      AD_SIGNALS_PSEUDONYM_KEY: 'short-secret-value',
      AD_SIGNALS_CLOSE_INTERVAL_MS: '10',
    });
    expect(message).toContain('AD_SIGNALS_K must be a whole number from 2 to 100000');
    expect(message).toContain('AD_SIGNALS_GROUPINGS must be groupings of app, country');
    expect(message).toContain('AD_SIGNALS_AMOUNT_BUCKETS must be ascending');
    expect(message).toContain('AD_SIGNALS_DP_EPSILON_PER_WINDOW must be a positive number');
    expect(message).toContain('AD_SIGNALS_PSEUDONYM_KEY must be a secret of at least 32 characters');
    expect(message).toContain('AD_SIGNALS_CLOSE_INTERVAL_MS must be a whole number of milliseconds, 0 (off)');
    expect(message).not.toContain('short-secret-value');
  });

  it('refuses the development keys, and differential privacy off, in production', () => {
    expect(problems({ NODE_ENV: 'production' })).toMatch(/AD_SIGNALS_PSEUDONYM_KEY must be a secret.*AD_SIGNALS_DP_NOISE_KEY must be a secret/);
    expect(problems({ NODE_ENV: 'production' })).toContain('AD_SIGNALS_DP_ENABLED must be true in production');
    expect(problems({ NODE_ENV: 'production', AD_SIGNALS_DP_ENABLED: 'false' })).toContain('AD_SIGNALS_DP_ENABLED must be true in production');
    expect(problems({ AD_SIGNALS_DP_ENABLED: 'false' })).toBe('');
    expect(
      problems({
        NODE_ENV: 'production',
        AD_SIGNALS_DP_ENABLED: 'true',
        AUTH_KEY_GRANTS: '{}',
        AUTH_JWKS_URL: 'https://id.example.com/jwks.json',
        AD_SIGNALS_PSEUDONYM_KEY: 'p'.repeat(40),
        AD_SIGNALS_DP_NOISE_KEY: 'n'.repeat(40),
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'svc',
        KAFKA_SASL_PASSWORD: 'kafka-password',
      }),
    ).toBe('');
    expect(load({ AD_SIGNALS_CLOSE_INTERVAL_MS: '0' }).AD_SIGNALS_PSEUDONYM_KEY).toBe(DEVELOPMENT_PSEUDONYM_KEY);
  });
});
