import { isPublicKeySet, parseStepUpThresholds } from '@pay/auth';
import { IsConsumerGroupId, IsTopicName, IsWholeNumber } from '@pay/config';
import { Topics } from '@pay/contracts';
import { IsOptional, IsString, Matches, ValidateBy, ValidateIf } from 'class-validator';
import { parsePaymentLimits } from './check-purchase/payment-limits';
import { parseCurrencyAmounts } from './refund-payment/support-refund-budget';
import { DEFAULT_PSP_ROUTES, parsePspRoutes } from './psp/payment-service-providers';
import { PayPalConfig } from './psp/paypal/paypal.config';

function Parses(what: string, parse: (text: string) => unknown): PropertyDecorator {
  return ValidateBy({
    name: 'parses',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string') return false;
        try {
          parse(value);
          return true;
        } catch {
          return false;
        }
      },
      defaultMessage: () => `must be ${what}`,
    },
  });
}

function IsPrivateJwk(): PropertyDecorator {
  return ValidateBy({
    name: 'isPrivateJwk',
    validator: {
      validate: (value: unknown) => {
        try {
          const jwk = JSON.parse(String(value)) as Record<string, unknown>;
          return typeof jwk.d === 'string' && typeof jwk.kid === 'string';
        } catch {
          return false;
        }
      },
      defaultMessage: () => 'must be a private EC P-256 or Ed25519 JWK with "kid" and "d"',
    },
  });
}

/** Environment of the payment-orchestration service, validated at start-up (see docs/configuration.md). */
export class PaymentOrchestrationConfig extends PayPalConfig {
  // NODE_ENV and AUTH_* (access tokens) are read by BaseServiceConfig, for every service.

  /**
   * This service's own signing key for the access tokens it sends the wallet (role `service`,
   * subject `payment-orchestration`); its public half must be in the wallet's AUTH_JWKS.
   */
  @ValidateIf((config: PaymentOrchestrationConfig) => config.SERVICE_TOKEN_SIGNING_JWK !== undefined)
  @IsPrivateJwk()
  SERVICE_TOKEN_SIGNING_JWK?: string;

  /** Which provider charges each kind of saved method (kind:provider, comma-separated); providers: stripe, paypal. */
  @Parses('a comma-separated list of kind:provider with providers stripe or paypal, e.g. card:stripe,paypal:paypal', (text) =>
    parsePspRoutes(text, ['stripe', 'paypal']),
  )
  PSP_ROUTES = DEFAULT_PSP_ROUTES;

  // --- The wallet ---

  /** The wallet's API: payment instruments (PSP tokens) are fetched from it when a card is charged. */
  @Matches(/^https?:\/\/\S+$/, { message: 'must be the http(s) URL of the wallet service, e.g. http://127.0.0.1:3001' })
  WALLET_URL = 'http://127.0.0.1:3001';

  @IsWholeNumber({ min: 100, max: 60_000, unit: 'milliseconds' })
  WALLET_TIMEOUT_MS = 5_000;

  /**
   * How long an instrument lookup waits for company before its batch goes to the wallet (one
   * `POST /v1/payment-instruments/releases` for the lookups issued meanwhile, up to 64). 0: the
   * lookups issued in the same turn of the event loop go together, and one alone goes at once.
   */
  @IsWholeNumber({ min: 0, max: 2, unit: 'milliseconds' })
  WALLET_RELEASE_BATCH_WAIT_MS = 0;

  // --- Checks before money moves ---

  /** The rollout file shared with the wallet (countries and apps where Pay is live), hot-reloaded. */
  @IsString()
  @Matches(/\.json$/, { message: 'must be the path of a JSON file, e.g. config/rollout.json' })
  ROLLOUT_CONFIG_PATH = 'config/rollout.json';

  /** The registered non-profits donations may go to. */
  @IsString()
  @Matches(/\.json$/, { message: 'must be the path of a JSON file, e.g. config/non-profits.json' })
  NON_PROFITS_CONFIG_PATH = 'config/non-profits.json';

  /** Accepted currencies and the amount range of one payment in each, in minor units: `EUR:50-1000000`. */
  @Parses('a comma-separated list of CURRENCY:min-max in minor units, e.g. EUR:50-1000000,USD:50-1000000', parsePaymentLimits)
  PAYMENT_LIMITS = 'EUR:50-1000000,USD:50-1000000,GBP:50-1000000';

  /** Above these amounts a step-up proof (PIN, biometric) is required: `EUR:5000`. A currency not listed always needs one. */
  @Parses('a comma-separated list of CURRENCY:minor-units, e.g. EUR:5000,USD:5000', parseStepUpThresholds)
  STEP_UP_THRESHOLDS = 'EUR:5000,USD:5000,GBP:5000';

  /**
   * Cumulative step-up: at most this many payments per payer and currency without a proof since
   * the last one; the next needs a proof (PSD2's low-value exemption allows 5).
   */
  @IsWholeNumber({ min: 0, max: 1_000_000 })
  STEP_UP_MAX_UNCONFIRMED_PAYMENTS = 5;

  /**
   * Cumulative step-up: the most that payments without a proof since the last one may add up to,
   * per currency in minor units (`EUR:10000` = 100 EUR). A currency not listed: the count alone.
   */
  @Parses('a comma-separated list of CURRENCY:minor-units, e.g. EUR:10000,USD:10000', parseStepUpThresholds)
  STEP_UP_CUMULATIVE_AMOUNTS = 'EUR:10000,USD:10000,GBP:10000';

  /**
   * New payments one payer may ask for per minute, through either door (token bucket shared by the
   * replicas; HTTP: 429 RATE_LIMITED beyond; Kafka: payments.payment.rejected RATE_LIMITED).
   */
  @IsWholeNumber({ min: 1, max: 1_000_000 })
  PAYMENTS_PER_PAYER_PER_MINUTE = 20;

  /**
   * Purchase requests one app backend (the sender its token in the record's `authorization` header
   * authenticates, not the `app` a request names) may send on Kafka per minute, new or replayed
   * (token bucket shared by the replicas); beyond, each is answered with payments.payment.rejected
   * RATE_LIMITED and may be sent again with the same request id later.
   */
  @IsWholeNumber({ min: 1, max: 10_000_000 })
  PURCHASE_REQUESTS_PER_APP_PER_MINUTE = 6_000;

  /** Payment requests (new or replayed) one caller (token subject) may send over HTTP per minute. */
  @IsWholeNumber({ min: 1, max: 10_000_000 })
  PAYMENTS_PER_CALLER_PER_MINUTE = 6_000;

  // --- Support's refund budget (docs/security.md, "Support's refunds") ---

  /** Refunds one support agent may start an hour (token bucket per agent, shared by the replicas); beyond: 429 SUPPORT_REFUND_BUDGET_EXCEEDED. 0: none. */
  @IsWholeNumber({ min: 0, max: 100_000 })
  SUPPORT_REFUNDS_PER_AGENT_PER_HOUR = 20;

  /** What one support agent may refund an hour, per currency in minor units (`EUR:50000` = 500 EUR). A currency not listed: support refunds nothing in it. */
  @Parses('a comma-separated list of CURRENCY:minor-units (at most 15 digits), e.g. EUR:50000,USD:50000', parseCurrencyAmounts)
  SUPPORT_REFUND_AMOUNT_PER_AGENT_PER_HOUR = 'EUR:50000,USD:50000,GBP:50000';

  /** What all support agents together may refund an hour, per currency in minor units. A currency not listed: support refunds nothing in it. */
  @Parses('a comma-separated list of CURRENCY:minor-units (at most 15 digits), e.g. EUR:500000,USD:500000', parseCurrencyAmounts)
  SUPPORT_REFUND_AMOUNT_PER_HOUR = 'EUR:500000,USD:500000,GBP:500000';

  /** The wallet's step-up public keys inline; else fetched from STEP_UP_JWKS_URL. */
  @ValidateIf((config: PaymentOrchestrationConfig) => config.STEP_UP_JWKS !== undefined)
  @ValidateBy({
    name: 'isPublicKeySet',
    validator: { validate: isPublicKeySet, defaultMessage: () => 'must be a JSON Web Key Set of public keys, {"keys":[...]}' },
  })
  STEP_UP_JWKS?: string;

  /** Default: the wallet's `${WALLET_URL}/.well-known/step-up-jwks.json`. */
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL of a JWKS document' })
  STEP_UP_JWKS_URL?: string;

  @Matches(/^\S{1,100}$/, { message: 'must be the issuer of step-up proofs, e.g. pay:wallet' })
  STEP_UP_ISSUER = 'pay:wallet';

  // --- Driving payments ---

  /** Topic of the Kafka door (tests and canaries point it elsewhere). */
  @IsTopicName()
  PURCHASE_REQUESTS_TOPIC: string = Topics.purchaseRequests;

  @IsTopicName()
  WALLET_EVENTS_TOPIC: string = Topics.walletEvents;

  /** Consumer groups are `<prefix>.purchase-requests` and `<prefix>.wallet-events`. */
  @IsConsumerGroupId()
  KAFKA_CONSUMER_GROUP_PREFIX = 'payment-orchestration';

  /** PSP calls (and other payment steps) run at most this many at once per process. */
  @IsWholeNumber({ min: 1, max: 256 })
  PAYMENT_STEP_CONCURRENCY = 16;

  /**
   * How long a claim holds a step; the worker renews it every third of this while the step runs
   * (a heartbeat), so only a dead worker's lease runs out, and another takes the step over after
   * at most this long: the recovery time after a crash.
   */
  @IsWholeNumber({ min: 2, max: 3_600, unit: 'seconds' })
  PAYMENT_STEP_LEASE_SECONDS = 10;

  /**
   * The least time between two looks for steps coming due (retries, deadlines, expired leases); the
   * poll interval only while LISTEN is down. Idle, nothing runs.
   */
  @IsWholeNumber({ min: 50, max: 60_000, unit: 'milliseconds' })
  PAYMENT_STEP_POLL_MS = 1_000;

  /** A transfer whose reservation the wallet has not confirmed within this is voided (compensation). */
  @IsWholeNumber({ min: 1, max: 3_600, unit: 'seconds' })
  FUNDS_CONFIRMATION_TIMEOUT_SECONDS = 30;

  /** How long the wallet holds a transfer's funds before the hold expires on its own. */
  @IsWholeNumber({ min: 10, max: 86_400, unit: 'seconds' })
  FUNDS_RESERVATION_TTL_SECONDS = 900;

  /** Reconciliation looks at payments in a non-final status for longer than this. */
  @IsWholeNumber({ min: 1, max: 604_800, unit: 'seconds' })
  RECONCILE_STUCK_AFTER_SECONDS = 900;
}
