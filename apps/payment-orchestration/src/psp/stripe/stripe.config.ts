import { IsWholeNumber, STRIPE_SIMULATOR_API, STRIPE_SIMULATOR_SECRET_KEY, StripeApiConfig, stripeApiLocation } from '@pay/config';
import { IsDefined, Matches, ValidateIf } from 'class-validator';
import { NotSimulatorValueInProduction } from '../psp-config-checks';

/** Where the adapter sends requests when no secret key is set: the local PSP simulator (apps/psp-simulator). */
export const SIMULATOR_DEFAULTS = {
  secretKey: STRIPE_SIMULATOR_SECRET_KEY,
  webhookSecret: 'whsec_simulator',
  ...STRIPE_SIMULATOR_API,
} as const;

/**
 * Stripe's variables (docs/configuration.md). Without STRIPE_SECRET_KEY the adapter talks to the
 * local simulator; with it, to Stripe — or to whatever STRIPE_API_HOST/PORT/PROTOCOL name.
 * Meant as the parent of PaymentOrchestrationConfig, so they are validated at start-up with the rest.
 */
export class StripeConfig extends StripeApiConfig {
  /** Optional in development (the simulator answers); required in production, which never talks to the simulator. */
  @ValidateIf((config: StripeConfig) => config.STRIPE_SECRET_KEY !== undefined || config.NODE_ENV === 'production')
  @IsDefined({ message: 'is required in production (without it the adapter talks to the local PSP simulator)' })
  @Matches(/^(sk|rk)_(test|live)_\w+$/, { message: 'must be a Stripe secret or restricted key (sk_test_..., sk_live_..., rk_...)' })
  STRIPE_SECRET_KEY?: string;

  /** The webhook endpoint's signing secret; required with a real key (an unsigned webhook is never trusted). */
  @ValidateIf((config: StripeConfig) => config.STRIPE_SECRET_KEY !== undefined || config.STRIPE_WEBHOOK_SECRET !== undefined)
  @IsDefined({ message: 'is required when STRIPE_SECRET_KEY is set: the signing secret (whsec_...) of the webhook endpoint' })
  @Matches(/^whsec_\S+$/, { message: 'must be a webhook signing secret starting with whsec_' })
  @NotSimulatorValueInProduction(SIMULATOR_DEFAULTS.webhookSecret, 'signing secret')
  STRIPE_WEBHOOK_SECRET?: string;

  /** Per request; a request that takes longer has an unknown outcome (never a decline). */
  @IsWholeNumber({ min: 1_000, max: 120_000, unit: 'milliseconds' })
  STRIPE_TIMEOUT_MS = 30_000;

  /** The SDK's own retries of connection errors, 409 and 5xx, always with the same idempotency key. */
  @IsWholeNumber({ min: 0, max: 5 })
  STRIPE_MAX_NETWORK_RETRIES = 2;

  /** How old a webhook signature may be (replay protection); Stripe's default is 300. */
  @IsWholeNumber({ min: 1, max: 600, unit: 'seconds' })
  STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300;
}

/** What the adapter needs, resolved: a key, a signing secret, and where to send requests. */
export interface StripeSettings {
  readonly secretKey: string;
  readonly webhookSecret: string;
  /** Absent: Stripe's own API. */
  readonly host?: string;
  readonly port?: number;
  readonly protocol?: 'http' | 'https';
  readonly timeoutMs: number;
  readonly maxNetworkRetries: number;
  readonly webhookToleranceSeconds: number;
  /** Whether the settings point at the local simulator (no key given). */
  readonly simulator: boolean;
}

export function stripeSettingsFrom(config: StripeConfig): StripeSettings {
  const common = {
    timeoutMs: config.STRIPE_TIMEOUT_MS,
    maxNetworkRetries: config.STRIPE_MAX_NETWORK_RETRIES,
    webhookToleranceSeconds: config.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
  };
  if (config.STRIPE_SECRET_KEY === undefined) {
    return {
      ...common,
      secretKey: SIMULATOR_DEFAULTS.secretKey,
      webhookSecret: config.STRIPE_WEBHOOK_SECRET ?? SIMULATOR_DEFAULTS.webhookSecret,
      ...stripeApiLocation(config, true),
      simulator: true,
    };
  }
  return {
    ...common,
    secretKey: config.STRIPE_SECRET_KEY,
    // Validation requires it with a key; checked again so a misuse fails loudly, not with an empty secret.
    webhookSecret: required(config.STRIPE_WEBHOOK_SECRET, 'STRIPE_WEBHOOK_SECRET'),
    ...stripeApiLocation(config, false),
    simulator: false,
  };
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new Error(`${name} is required when STRIPE_SECRET_KEY is set`);
  return value;
}
