import { BaseServiceConfig, IsConsumerGroupId, IsFlag, IsJsonWith, IsTopicName, IsWholeNumber } from '@pay/config';
import { Topics } from '@pay/contracts';
import { IsOptional, IsString, Matches, ValidateBy } from 'class-validator';

/** Environment of the support service, validated at start-up (see docs/configuration.md). */
export class SupportConfig extends BaseServiceConfig {
  // NODE_ENV and AUTH_* (access tokens, also of the WebSocket handshake) are read by BaseServiceConfig.

  /**
   * The audience (`aud`) of support agents' tokens (role `support`): the identity provider issues
   * agents' tokens for it alone, so that no other service takes them (docs/security.md).
   */
  @IsString()
  @Matches(/^\S{1,200}$/, { message: "must be the audience (aud) of support agents' tokens, e.g. pay-support" })
  @ValidateBy({
    name: 'differsFromAuthAudience',
    validator: {
      validate: (value: unknown, args) => value !== (args?.object as SupportConfig).AUTH_AUDIENCE,
      defaultMessage: () => "must differ from AUTH_AUDIENCE: agents' tokens are for the support service alone",
    },
  })
  AUTH_AGENT_AUDIENCE = 'pay-support';

  // --- Where chat is offered ---

  /** Countries and apps where chat is live (the rollout file format of libs/rollout), hot-reloaded on change or SIGHUP. */
  @IsString()
  @Matches(/\.json$/, { message: 'must be the path of a JSON file, e.g. config/support-rollout.json' })
  SUPPORT_ROLLOUT_CONFIG_PATH = 'config/support-rollout.json';

  // --- Conversations ---

  /** Closed conversations (and their messages) are deleted this many days after closing. */
  @IsWholeNumber({ min: 1, max: 3_650, unit: 'days' })
  SUPPORT_RETENTION_DAYS = 90;

  /** The longest message accepted, in characters. */
  @IsWholeNumber({ min: 1, max: 4_000, unit: 'characters' })
  SUPPORT_MAX_MESSAGE_LENGTH = 2_000;

  // --- Refunds agents start ---

  /** payment-orchestration's API, where an agent's refund is requested. */
  @Matches(/^https?:\/\/\S+$/, { message: 'must be the http(s) URL of payment-orchestration, e.g. http://127.0.0.1:3002' })
  PAYMENT_ORCHESTRATION_URL = 'http://127.0.0.1:3002';

  @IsWholeNumber({ min: 100, max: 60_000, unit: 'milliseconds' })
  PAYMENT_ORCHESTRATION_TIMEOUT_MS = 5_000;

  /**
   * This service's own signing key for the access tokens it sends payment-orchestration (role
   * `service`, subject `support`); its public half must be in orchestration's AUTH_JWKS, its grant in AUTH_KEY_GRANTS.
   * Unset: agents' refunds are refused with REFUNDS_UNAVAILABLE.
   */
  @IsOptional()
  @IsJsonWith('a private EC P-256 or Ed25519 JWK with "kid" and "d"', (jwk) => typeof jwk.d === 'string' && typeof jwk.kid === 'string')
  SUPPORT_SERVICE_TOKEN_SIGNING_JWK?: string;

  // --- The timeline consumer ---

  /** Run the Kafka consumer (payment timelines, wallets' countries) in this process. */
  @IsFlag()
  SUPPORT_CONSUMER_ENABLED = true;

  @IsConsumerGroupId()
  SUPPORT_CONSUMER_GROUP = 'support';

  /** The consumed topics (overridable so tests can use their own). */
  @IsTopicName()
  SUPPORT_PAYMENTS_TOPIC: string = Topics.paymentEvents;

  @IsTopicName()
  SUPPORT_LEDGER_TOPIC: string = Topics.ledgerTransactions;

  @IsTopicName()
  SUPPORT_WALLET_TOPIC: string = Topics.walletEvents;

  /** Where the service publishes its own events. */
  @IsTopicName()
  SUPPORT_EVENTS_TOPIC: string = Topics.supportEvents;
}
