import { AmountBuckets, parseGroupings } from '@pay/ad-signals-domain';
import { BaseServiceConfig, IsConsumerGroupId, IsFlag, IsTopicName, IsWholeNumber } from '@pay/config';
import { Topics } from '@pay/contracts';
import { Transform } from 'class-transformer';
import type { ValidationArguments } from 'class-validator';
import { Matches, ValidateBy } from 'class-validator';

const toNumber = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value);

/** Keys for development and tests only, public because they are in this file; refused when NODE_ENV=production. */
export const DEVELOPMENT_PSEUDONYM_KEY = 'development-only-ad-signals-pseudonym-key';
export const DEVELOPMENT_NOISE_KEY = 'development-only-ad-signals-noise-key';

const isProduction = (config: AdSignalAggregationConfig): boolean => config.NODE_ENV === 'production';

function Accepts(what: string, test: (value: string) => void): PropertyDecorator {
  return ValidateBy({
    name: 'accepts',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string') return false;
        try {
          test(value);
          return true;
        } catch {
          return false;
        }
      },
      defaultMessage: () => `must be ${what}`,
    },
  });
}

function IsSecretKey(development: string): PropertyDecorator {
  return ValidateBy({
    name: 'isSecretKey',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        typeof value === 'string' && value.length >= 32 && !(isProduction(args?.object as AdSignalAggregationConfig) && value === development),
      defaultMessage: () => 'must be a secret of at least 32 characters (the development default is refused in production)',
    },
  });
}

function IsPositiveUpTo(max: number, message: string): PropertyDecorator {
  return ValidateBy({
    name: 'isPositiveUpTo',
    validator: {
      validate: (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= max,
      defaultMessage: () => message,
    },
  });
}

/** Environment of the ad-signal-aggregation service, validated at start-up (see docs/privacy.md). */
export class AdSignalAggregationConfig extends BaseServiceConfig {
  // NODE_ENV and AUTH_* (access tokens) are read by BaseServiceConfig, for every service.

  // --- Input and output ---

  @IsConsumerGroupId()
  AD_SIGNALS_CONSUMER_GROUP = 'ad-signal-aggregation';

  /**
   * How long Kafka may hold the consumer's fetch to gather events into one transaction (0: each
   * fetch returns as soon as an event is there). Signals are hourly windows: a second costs nothing.
   */
  @IsWholeNumber({ min: 0, max: 5_000, unit: 'milliseconds' })
  AD_SIGNALS_CONSUMER_GATHER_MS = 1_000;

  @IsTopicName()
  AD_SIGNALS_PAYMENT_EVENTS_TOPIC: string = Topics.paymentEvents;

  @IsTopicName()
  AD_SIGNALS_WALLET_EVENTS_TOPIC: string = Topics.walletEvents;

  @IsTopicName()
  AD_SIGNALS_AGGREGATES_TOPIC: string = Topics.adSignalAggregates;

  /** HMAC key of the person and payment pseudonyms; rotating it starts new people (see docs/privacy.md). */
  @IsSecretKey(DEVELOPMENT_PSEUDONYM_KEY)
  AD_SIGNALS_PSEUDONYM_KEY = DEVELOPMENT_PSEUDONYM_KEY;

  // --- Windows ---

  /** How long after a window's end (in event time) its stragglers are still awaited. */
  @IsWholeNumber({ min: 0, max: 86_400, unit: 'seconds' })
  AD_SIGNALS_GRACE_SECONDS = 900;

  /** How far ahead of this machine's clock an event time may move the watermark. */
  @IsWholeNumber({ min: 0, max: 3_600, unit: 'seconds' })
  AD_SIGNALS_MAX_CLOCK_SKEW_SECONDS = 300;

  /** The least time between two runs of the window closer, which runs this long after a consumer applied an event; 0 turns it off (tests close by hand). */
  @IsWholeNumber({ min: 1_000, max: 3_600_000, unit: 'milliseconds', zeroIsOff: true })
  AD_SIGNALS_CLOSE_INTERVAL_MS = 60_000;

  /** Days the pseudonymous purchase facts are kept after their day closed. */
  @IsWholeNumber({ min: 1, max: 90, unit: 'days' })
  AD_SIGNALS_RETENTION_DAYS = 7;

  // --- Privacy rules ---

  /** A cell with fewer distinct people is never published. */
  @IsWholeNumber({ min: 2, max: 100_000 })
  AD_SIGNALS_K = 100;

  /** One person counts at most this many purchases per merchant and window (so per cell). */
  @IsWholeNumber({ min: 1, max: 1_000 })
  AD_SIGNALS_MAX_PURCHASES_PER_PERSON = 5;

  /** The groupings published besides the total: `;` between groupings, `+` inside one. */
  @Accepts('groupings of app, country, merchantCategory, paymentMethodType, amountBucket, e.g. app;country;app+country', (value) => parseGroupings(value))
  AD_SIGNALS_GROUPINGS = 'app;country;merchantCategory;paymentMethodType;amountBucket';

  /** Amount bucket boundaries in minor units, ascending. */
  @Accepts('ascending positive whole minor units separated by commas, e.g. 1000,5000,10000,50000', (value) => AmountBuckets.parse(value))
  AD_SIGNALS_AMOUNT_BUCKETS = '1000,5000,10000,50000';

  // --- Differential privacy (optional) ---

  /** Off only outside production: exact sums let a merchant tell which customer withdrew consent (docs/privacy.md). */
  @IsFlag()
  @ValidateBy({
    name: 'onInProduction',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => value === true || !isProduction(args?.object as AdSignalAggregationConfig),
      defaultMessage: () => 'must be true in production (exact sums reveal which customers withdrew consent)',
    },
  })
  AD_SIGNALS_DP_ENABLED = false;

  /** The privacy loss one window may cause a person, split over every value it publishes. */
  @Transform(toNumber)
  @IsPositiveUpTo(100, 'must be a positive number up to 100, e.g. 1 or 0.5')
  AD_SIGNALS_DP_EPSILON_PER_WINDOW = 1;

  /** One purchase adds at most this much to a published sum (bounds the sums' sensitivity). */
  @Matches(/^[1-9][0-9]{0,14}$/, { message: 'must be a positive whole number of minor units' })
  AD_SIGNALS_DP_MAX_AMOUNT_MINOR = '100000';

  /** Secret of the keyed noise: the same cell always gets the same noise, and nobody can subtract it. */
  @IsSecretKey(DEVELOPMENT_NOISE_KEY)
  AD_SIGNALS_DP_NOISE_KEY = DEVELOPMENT_NOISE_KEY;

  /** Total ε an advertiser may spend on windows through the query API; then queries are refused. */
  @Transform(toNumber)
  @IsPositiveUpTo(100_000, 'must be a positive number up to 100000')
  AD_SIGNALS_DP_ADVERTISER_BUDGET = 30;
}
