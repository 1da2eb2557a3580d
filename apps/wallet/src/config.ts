import { IsConsumerGroupId, IsJsonWith, IsWholeNumber, StripeApiConfig, toList, toWholeNumber } from '@pay/config';
import { MasterKeyRing } from '@pay/encryption';
import { Transform } from 'class-transformer';
import type { ValidationArguments } from 'class-validator';
import { ArrayMaxSize, ArrayMinSize, IsDefined, IsEmpty, IsInt, IsString, Matches, Max, Min, ValidateBy, ValidateIf } from 'class-validator';

const toUpperList = ({ value }: { value: unknown }): unknown => {
  const list = toList(value);
  return Array.isArray(list) ? list.map((part: string) => part.toUpperCase()) : list;
};

/**
 * A key for development and tests only, so `npm start` works without secrets. It is public
 * (it is in this file), and refused when NODE_ENV=production.
 */
export const DEVELOPMENT_MASTER_KEY_ID = 'dev-only';
const DEVELOPMENT_MASTER_KEYS = `${DEVELOPMENT_MASTER_KEY_ID}:ZGV2ZWxvcG1lbnQtb25seS1tYXN0ZXIta2V5LTMyYiE=`;

/** `"3600, 86400"` → [3600, 86400]; `none` → []. Anything else is left for the validator. */
const toWholeNumberList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? (value.trim() === 'none' ? [] : (toList(value) as string[]).map(toWholeNumber)) : value;

const ORIGINS_MESSAGE = 'must be a comma-separated list of origins such as https://pay.example.com (http only for localhost)';

const LATER_LOCKOUTS_MESSAGE = 'must be a comma-separated list of at most 10 whole numbers of seconds from 1 to 2592000 (30 days), e.g. 3600,86400, or none';

const isProduction = (config: WalletConfig): boolean => config.NODE_ENV === 'production';

/** Validates the master keys together with the active id, naming ids only, never key material. */
function IsMasterKeyRing(): PropertyDecorator {
  return ValidateBy({
    name: 'isMasterKeyRing',
    validator: {
      validate: (_value: unknown, args?: ValidationArguments) => {
        const config = args?.object as WalletConfig;
        try {
          MasterKeyRing.parse(config.WALLET_MASTER_KEYS, config.WALLET_MASTER_KEY_ID);
        } catch {
          return false;
        }
        return !(isProduction(config) && config.WALLET_MASTER_KEY_ID === DEVELOPMENT_MASTER_KEY_ID);
      },
      defaultMessage: (args?: ValidationArguments) => {
        const config = args?.object as WalletConfig;
        try {
          MasterKeyRing.parse(config.WALLET_MASTER_KEYS, config.WALLET_MASTER_KEY_ID);
        } catch (error) {
          return `(with WALLET_MASTER_KEY_ID): ${(error as Error).message}`;
        }
        return 'must not use the development master key in production: set WALLET_MASTER_KEYS and WALLET_MASTER_KEY_ID';
      },
    },
  });
}

/** Environment of the wallet service, validated at start-up (see docs/configuration.md). */
export class WalletConfig extends StripeApiConfig {
  // --- Step-up proofs (PIN, biometric) ---

  /** Private EC P-256 or Ed25519 JWK with a kid. Without it (development only) a key is generated per process. */
  @ValidateIf((config: WalletConfig) => config.STEP_UP_SIGNING_JWK !== undefined || isProduction(config))
  @IsJsonWith(
    'a private EC P-256 or Ed25519 JWK with "kid" and "d" (required in production)',
    (jwk) => typeof jwk.d === 'string' && typeof jwk.kid === 'string',
  )
  STEP_UP_SIGNING_JWK?: string;

  /** The `iss` of step-up proofs; payment orchestration expects the same (STEP_UP_ISSUER). */
  @Matches(/^\S{1,100}$/, { message: 'must be a name without spaces, e.g. pay:wallet' })
  STEP_UP_ISSUER = 'pay:wallet';

  @IsWholeNumber({ min: 10, max: 900, unit: 'seconds' })
  STEP_UP_TTL_SECONDS = 120;

  // --- Passkeys (WebAuthn relying party, docs/passkeys.md) ---

  /** The relying party id: the registrable domain the web pages are served from (passkeys are bound to it). */
  @Matches(/^(localhost|[a-z0-9-]+(\.[a-z0-9-]+)+)$/, { message: 'must be a domain name such as pay.example.com (or localhost in development)' })
  @ValidateBy({
    name: 'isNotLocalhostInProduction',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => !(isProduction(args?.object as WalletConfig) && value === 'localhost'),
      defaultMessage: () => 'must be the production domain, not localhost, when NODE_ENV=production',
    },
  })
  WEBAUTHN_RP_ID = 'localhost';

  /** The name authenticators show beside the passkey. */
  @Matches(/^[^\p{Cc}]{1,64}$/u, { message: 'must be 1 to 64 characters without control characters' })
  WEBAUTHN_RP_NAME = 'Pay';

  /** Origins (scheme://host[:port]) whose pages may run passkey ceremonies, comma-separated; https only in production. */
  @Transform(({ value }) => toList(value))
  @ArrayMinSize(1, { message: ORIGINS_MESSAGE })
  @Matches(/^(https:\/\/[a-z0-9.-]+(:\d{1,5})?|http:\/\/localhost(:\d{1,5})?)$/, { each: true, message: ORIGINS_MESSAGE })
  @ValidateBy({
    name: 'isHttpsInProduction',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        !isProduction(args?.object as WalletConfig) || (Array.isArray(value) && value.every((origin) => String(origin).startsWith('https://'))),
      defaultMessage: () => 'must list https:// origins only when NODE_ENV=production',
    },
  })
  WEBAUTHN_ORIGINS: string[] = ['http://localhost:5173'];

  /** How long a ceremony's challenge may be answered. */
  @IsWholeNumber({ min: 10, max: 600, unit: 'seconds' })
  WEBAUTHN_CHALLENGE_TTL_SECONDS = 120;

  // --- PIN ---

  @IsWholeNumber({ min: 3, max: 10 })
  PIN_MAX_ATTEMPTS = 5;

  /** The first lock after PIN_MAX_ATTEMPTS wrong PINs. */
  @IsWholeNumber({ min: 1, max: 86_400, unit: 'seconds' })
  PIN_LOCKOUT_SECONDS = 900;

  /** Each further lock (without a right PIN between) lasts the next of these; the lock after the last blocks PIN use until re-verified. */
  @Transform(toWholeNumberList)
  @ArrayMaxSize(10, { message: LATER_LOCKOUTS_MESSAGE })
  @IsInt({ each: true, message: LATER_LOCKOUTS_MESSAGE })
  @Min(1, { each: true, message: LATER_LOCKOUTS_MESSAGE })
  @Max(2_592_000, { each: true, message: LATER_LOCKOUTS_MESSAGE })
  PIN_LATER_LOCKOUTS_SECONDS: number[] = [3_600, 86_400];

  /** PIN and step-up attempts (set, change, confirm with PIN or biometric) per person per minute, across replicas. */
  @IsWholeNumber({ min: 1, max: 1_000 })
  PIN_ATTEMPTS_PER_PERSON_PER_MINUTE = 10;

  /** The same per caller (token subject): a service confirming for many persons needs more. */
  @IsWholeNumber({ min: 1, max: 100_000 })
  PIN_ATTEMPTS_PER_CALLER_PER_MINUTE = 600;

  /**
   * How long an instrument release waits for a payment the wallet has not read from
   * payments.events.v1 yet (announced by NOTIFY when it is), before answering 503
   * PAYMENT_NOT_KNOWN_YET; below orchestration's WALLET_TIMEOUT_MS. 0: answer at once.
   */
  @IsWholeNumber({ min: 0, max: 10_000, unit: 'milliseconds' })
  INSTRUMENT_RELEASE_WAIT_MS = 2_000;

  /**
   * How long the wallet keeps a payment's `payments_in_progress` row once no release can need it
   * (past its charge, or without a method), counted from its last change; then a bounded sweep
   * deletes it, at most every 10 minutes while payments flow (never while idle).
   */
  @IsWholeNumber({ min: 1, max: 8_760, unit: 'hours' })
  PAYMENTS_IN_PROGRESS_RETENTION_HOURS = 168;

  // --- Encryption at rest ---

  /** Master keys `id:base64(32 bytes)`, comma-separated; older ones stay until `npm run wallet:rotate-keys` is done. */
  @IsString()
  WALLET_MASTER_KEYS = DEVELOPMENT_MASTER_KEYS;

  /** The master key new data keys are wrapped with. */
  @IsMasterKeyRing()
  WALLET_MASTER_KEY_ID = DEVELOPMENT_MASTER_KEY_ID;

  /**
   * How long a person's data key stays unwrapped in memory after use (0: unwrapped on every
   * read). Only the unwrap is skipped: the wrapped key is still read from `data_keys` each time,
   * so a deleted key stops every read at once.
   */
  @IsWholeNumber({ min: 0, max: 60_000, unit: 'ms' })
  WALLET_DATA_KEY_CACHE_MS = 5_000;

  /** At most this many data keys are held unwrapped (the least recently used leaves first). */
  @IsWholeNumber({ min: 1, max: 100_000, unit: 'keys' })
  WALLET_DATA_KEY_CACHE_SIZE = 2_000;

  // --- Rollout and consent ---

  /** The rollout file (countries and apps where Pay is live), reloaded on change and SIGHUP. */
  @IsString()
  @Matches(/\.json$/, { message: 'must be the path of a JSON file, e.g. config/rollout.json' })
  ROLLOUT_CONFIG_PATH = 'config/rollout.json';

  /**
   * Consent to ad measurement is opt-in everywhere. Only countries listed here, where the law
   * allows it and someone decided so, start with it on (source `default`); none by default.
   */
  @Transform(toUpperList)
  @Matches(/^[A-Z]{2}$/, { each: true, message: 'must be a comma-separated list of ISO 3166-1 alpha-2 codes, e.g. US,BR' })
  AD_CONSENT_GRANTED_BY_DEFAULT_COUNTRIES: string[] = [];

  /** Removed: consent is opt-in everywhere now; naming it fails the boot so a stale setting is noticed. */
  @IsEmpty({
    message:
      'was removed: ad-measurement consent is opt-in in every country; list the countries where it may start on in AD_CONSENT_GRANTED_BY_DEFAULT_COUNTRIES',
  })
  AD_CONSENT_OPT_IN_COUNTRIES?: string;

  /**
   * US bank accounts are set up at Stripe and verified by micro-deposits before they may be
   * debited: the key the wallet does that with (in production a restricted `rk_` key with write
   * access to Customers and SetupIntents only). Unset outside production: the local PSP simulator.
   */
  @ValidateIf((config: WalletConfig) => config.STRIPE_SECRET_KEY !== undefined || isProduction(config))
  @IsDefined({ message: 'is required in production: US bank accounts are verified at Stripe with it (a restricted rk_ key is enough)' })
  @Matches(/^(sk|rk)_(test|live)_\w+$/, { message: 'must be a Stripe secret or restricted key (sk_test_..., rk_live_...)' })
  STRIPE_SECRET_KEY?: string;

  // STRIPE_API_HOST, STRIPE_API_PORT, STRIPE_API_PROTOCOL: StripeApiConfig.

  // =====================================================================================
  // Money movements: payments posted to the ledger, funds commands (post-payments-to-ledger,
  // handle-funds-commands, money/). Kept as one block; see docs/adr/0007-payment-postings.md.
  // =====================================================================================

  /** Our fee on card purchases and donations: basis points of the amount (150 = 1.5 %). */
  @IsWholeNumber({ min: 0, max: 10_000, message: 'must be a whole number of basis points from 0 to 10000 (150 = 1.5 %)' })
  PAYMENT_FEE_BPS = 150;

  /** Plus a fixed part, in minor units of the payment's currency (the fee never exceeds the amount). */
  @IsWholeNumber({ min: 0, max: 1_000_000, unit: 'minor units' })
  PAYMENT_FEE_FIXED_MINOR = 25;

  /** Charged to a business that loses a dispute (chargeback), in minor units of the payment's currency; 0: none. */
  @IsWholeNumber({ min: 0, max: 1_000_000, unit: 'minor units' })
  PAYMENT_DISPUTE_FEE_MINOR = 1_500;

  /** Kafka consumer group posting payments.events.v1 to the ledger (each test run uses its own). */
  @IsConsumerGroupId()
  PAYMENTS_LEDGER_CONSUMER_GROUP = 'wallet.payments-ledger';

  /**
   * How long Kafka may hold the payments-ledger consumer's fetch to gather events into one ledger
   * append (0: each fetch returns as soon as an event is there). 0 by default: the same consumer
   * learns the payments whose instruments orchestration asks for, and an ask waits for that.
   */
  @IsWholeNumber({ min: 0, max: 5_000, unit: 'milliseconds' })
  PAYMENTS_LEDGER_GATHER_MS = 0;

  /** Kafka consumer group answering wallet.commands.v1 (reserve, post, void funds). */
  @IsConsumerGroupId()
  FUNDS_COMMANDS_CONSUMER_GROUP = 'wallet.funds-commands';
}
