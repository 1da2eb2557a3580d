import type { PrivacyPolicy } from '@pay/ad-signals-domain';
import { AmountBuckets, assertPolicy, parseGroupings } from '@pay/ad-signals-domain';
import type { AdSignalAggregationConfig } from './config';

/** The validated configuration, in the shapes the use cases need. */
export interface AdSignalSettings {
  policy: PrivacyPolicy;
  amountBuckets: AmountBuckets;
  pseudonymKey: string;
  noiseKey: string;
  graceMs: number;
  maxClockSkewMs: number;
  closeIntervalMs: number;
  retentionDays: number;
  consumerGroup: string;
  topics: { paymentEvents: string; walletEvents: string; aggregates: string };
  /** Total ε per advertiser through the query API (only with differential privacy). */
  advertiserBudget: number;
}

export function settingsFrom(config: AdSignalAggregationConfig): AdSignalSettings {
  const dp = config.AD_SIGNALS_DP_ENABLED;
  return {
    policy: assertPolicy({
      k: config.AD_SIGNALS_K,
      maxPurchasesPerPerson: config.AD_SIGNALS_MAX_PURCHASES_PER_PERSON,
      groupings: parseGroupings(config.AD_SIGNALS_GROUPINGS),
      ...(dp
        ? { differentialPrivacy: { epsilonPerWindow: config.AD_SIGNALS_DP_EPSILON_PER_WINDOW, maxAmountMinor: BigInt(config.AD_SIGNALS_DP_MAX_AMOUNT_MINOR) } }
        : {}),
    }),
    amountBuckets: AmountBuckets.parse(config.AD_SIGNALS_AMOUNT_BUCKETS),
    pseudonymKey: config.AD_SIGNALS_PSEUDONYM_KEY,
    noiseKey: config.AD_SIGNALS_DP_NOISE_KEY,
    graceMs: config.AD_SIGNALS_GRACE_SECONDS * 1000,
    maxClockSkewMs: config.AD_SIGNALS_MAX_CLOCK_SKEW_SECONDS * 1000,
    closeIntervalMs: config.AD_SIGNALS_CLOSE_INTERVAL_MS,
    retentionDays: config.AD_SIGNALS_RETENTION_DAYS,
    consumerGroup: config.AD_SIGNALS_CONSUMER_GROUP,
    topics: {
      paymentEvents: config.AD_SIGNALS_PAYMENT_EVENTS_TOPIC,
      walletEvents: config.AD_SIGNALS_WALLET_EVENTS_TOPIC,
      aggregates: config.AD_SIGNALS_AGGREGATES_TOPIC,
    },
    advertiserBudget: config.AD_SIGNALS_DP_ADVERTISER_BUDGET,
  };
}
