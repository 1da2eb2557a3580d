import { BaseServiceConfig, IsConsumerGroupId, IsFlag, IsTopicName, IsWholeNumber } from '@pay/config';
import { Topics } from '@pay/contracts';
import type { ValidationArguments } from 'class-validator';
import { IsOptional, ValidateBy } from 'class-validator';

/** For development and tests only, public because it is in this file; refused when NODE_ENV=production. */
export const DEVELOPMENT_PSEUDONYM_KEY = 'development-only-history-pseudonym-key';

/** Environment of the history-projection service, validated at start-up (see docs/configuration.md). */
export class HistoryProjectionConfig extends BaseServiceConfig {
  // NODE_ENV and AUTH_* (access tokens) are read by BaseServiceConfig, for every service.

  // --- The projection consumer ---

  /** Run the Kafka consumer in this process (`false`: serve queries only, e.g. a read replica). */
  @IsFlag()
  HISTORY_CONSUMER_ENABLED = true;

  /** Consumer group and inbox name of the projection. */
  @IsConsumerGroupId()
  HISTORY_CONSUMER_GROUP = 'history-projection';

  /**
   * How long Kafka may hold the projection's fetch to gather events into one transaction (0: each
   * fetch returns as soon as an event is there). The history promises a purchase within 1 s.
   */
  @IsWholeNumber({ min: 0, max: 5_000, unit: 'milliseconds' })
  HISTORY_CONSUMER_GATHER_MS = 250;

  /** The consumed topics (overridable so tests can use their own). */
  @IsTopicName()
  HISTORY_PAYMENTS_TOPIC: string = Topics.paymentEvents;

  @IsTopicName()
  HISTORY_LEDGER_TOPIC: string = Topics.ledgerTransactions;

  @IsTopicName()
  HISTORY_WALLET_TOPIC: string = Topics.walletEvents;

  /** How often projection lag is measured for the metric (milliseconds). */
  @IsWholeNumber({ min: 200, max: 300_000, unit: 'milliseconds' })
  HISTORY_LAG_INTERVAL_MS = 5_000;

  /**
   * HMAC key of the pseudonyms analysts see instead of person ids (with their organisation);
   * rotating it gives everyone new pseudonyms. At least 32 characters; the development default is
   * refused in production.
   */
  @ValidateBy({
    name: 'isSecretKey',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        typeof value === 'string' &&
        value.length >= 32 &&
        !((args?.object as HistoryProjectionConfig | undefined)?.NODE_ENV === 'production' && value === DEVELOPMENT_PSEUDONYM_KEY),
      defaultMessage: () => 'must be a secret of at least 32 characters (the development default is refused in production)',
    },
  })
  HISTORY_PSEUDONYM_KEY = DEVELOPMENT_PSEUDONYM_KEY;

  /** When set, /health/ready reports the projection down once it is this many seconds behind. Unset: lag is reported, never fatal. */
  @IsOptional()
  @IsWholeNumber({ min: 1, max: 86_400, unit: 'seconds' })
  HISTORY_READY_MAX_LAG_SECONDS?: number;
}
