import { IsWholeNumber, NotHttpWhenLive } from '@pay/config';
import { IsDefined, IsIn, IsOptional, Matches, ValidateIf } from 'class-validator';
import { NotSimulatorValueInProduction } from '../psp-config-checks';
import { StripeConfig } from '../stripe/stripe.config';

/** Where the adapter goes without PAYPAL_CLIENT_ID: the local PSP simulator, which serves PayPal's API beside Stripe's. */
export const PAYPAL_SIMULATOR_SETTINGS = {
  clientId: 'paypal-simulator-client',
  clientSecret: 'paypal-simulator-secret',
  webhookId: 'SIMULATORWEBHOOK0000000001',
  apiUrl: 'http://127.0.0.1:12111',
} as const;

/** PayPal's own certificate hosts: a webhook naming a certificate anywhere else is refused. */
const PAYPAL_CERT_URL_PREFIXES = [
  'https://api.paypal.com/',
  'https://api.sandbox.paypal.com/',
  'https://api-m.paypal.com/',
  'https://api-m.sandbox.paypal.com/',
];

/**
 * PayPal's variables (docs/configuration.md). Without PAYPAL_CLIENT_ID the adapter talks to the
 * local simulator with its public client; with it, to PayPal's sandbox or live API
 * (PAYPAL_ENVIRONMENT), or to PAYPAL_API_URL when set (a proxy, or the simulator with its own
 * credentials). A parent of PaymentOrchestrationConfig, validated at start-up with the rest.
 */
export class PayPalConfig extends StripeConfig {
  @ValidateIf((config: PayPalConfig) => config.PAYPAL_CLIENT_ID !== undefined || config.NODE_ENV === 'production')
  @IsDefined({ message: 'is required in production (without it the adapter talks to the local PSP simulator)' })
  @Matches(/^[A-Za-z0-9_-]{1,128}$/, { message: 'must be a PayPal REST app client id' })
  @NotSimulatorValueInProduction(PAYPAL_SIMULATOR_SETTINGS.clientId, 'client id')
  PAYPAL_CLIENT_ID?: string;

  @ValidateIf((config: PayPalConfig) => config.PAYPAL_CLIENT_ID !== undefined || config.PAYPAL_CLIENT_SECRET !== undefined)
  @IsDefined({ message: 'is required when PAYPAL_CLIENT_ID is set: the secret of that REST app' })
  @Matches(/^\S{1,256}$/, { message: 'must be a PayPal client secret (no spaces)' })
  PAYPAL_CLIENT_SECRET?: string;

  /** The id of the webhook registered for this endpoint: PayPal signs it into every delivery. */
  @ValidateIf((config: PayPalConfig) => config.PAYPAL_CLIENT_ID !== undefined || config.PAYPAL_WEBHOOK_ID !== undefined)
  @IsDefined({ message: 'is required when PAYPAL_CLIENT_ID is set: the webhook id of this endpoint (an unsigned webhook is never trusted)' })
  @Matches(/^[A-Za-z0-9-]{1,64}$/, { message: 'must be a PayPal webhook id (letters, digits and "-")' })
  PAYPAL_WEBHOOK_ID?: string;

  @IsIn(['sandbox', 'production'], { message: 'must be sandbox or production' })
  PAYPAL_ENVIRONMENT: 'sandbox' | 'production' = 'sandbox';

  /** Sends the SDK's requests here instead of PayPal's host (the simulator, a proxy); http only without live credentials. */
  @IsOptional()
  @Matches(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, { message: 'must be an http(s) origin without a path, e.g. http://127.0.0.1:12111' })
  @NotHttpWhenLive((config: PayPalConfig) => config.PAYPAL_ENVIRONMENT === 'production', 'must be https with PAYPAL_ENVIRONMENT=production')
  PAYPAL_API_URL?: string;

  /** Per request; a request that takes longer has an unknown outcome (never a decline). */
  @IsWholeNumber({ min: 1_000, max: 120_000, unit: 'milliseconds' })
  PAYPAL_TIMEOUT_MS = 30_000;

  /** The SDK's own retries of 5xx and lost connections; every POST carries its PayPal-Request-Id, so a retry never pays twice. */
  @IsWholeNumber({ min: 0, max: 5 })
  PAYPAL_MAX_RETRIES = 2;

  /** How old a webhook's transmission time may be (replay protection). */
  @IsWholeNumber({ min: 1, max: 3_600, unit: 'seconds' })
  PAYPAL_WEBHOOK_TOLERANCE_SECONDS = 600;
}

export interface PayPalSettings {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly webhookId: string;
  readonly environment: 'sandbox' | 'production';
  /** Absent: PayPal's own host for the environment. */
  readonly apiUrl?: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly webhookToleranceSeconds: number;
  /** Webhook certificates are fetched only from URLs starting with one of these. */
  readonly certUrlPrefixes: readonly string[];
  readonly simulator: boolean;
}

export function payPalSettingsFrom(config: PayPalConfig): PayPalSettings {
  const common = {
    environment: config.PAYPAL_ENVIRONMENT,
    timeoutMs: config.PAYPAL_TIMEOUT_MS,
    maxRetries: config.PAYPAL_MAX_RETRIES,
    webhookToleranceSeconds: config.PAYPAL_WEBHOOK_TOLERANCE_SECONDS,
  };
  if (config.PAYPAL_CLIENT_ID === undefined) {
    const apiUrl = config.PAYPAL_API_URL ?? PAYPAL_SIMULATOR_SETTINGS.apiUrl;
    return {
      ...common,
      clientId: PAYPAL_SIMULATOR_SETTINGS.clientId,
      clientSecret: PAYPAL_SIMULATOR_SETTINGS.clientSecret,
      webhookId: config.PAYPAL_WEBHOOK_ID ?? PAYPAL_SIMULATOR_SETTINGS.webhookId,
      apiUrl,
      certUrlPrefixes: [`${apiUrl}/v1/notifications/certs/`],
      simulator: true,
    };
  }
  return {
    ...common,
    clientId: config.PAYPAL_CLIENT_ID,
    clientSecret: required(config.PAYPAL_CLIENT_SECRET, 'PAYPAL_CLIENT_SECRET'),
    webhookId: required(config.PAYPAL_WEBHOOK_ID, 'PAYPAL_WEBHOOK_ID'),
    ...(config.PAYPAL_API_URL === undefined ? {} : { apiUrl: config.PAYPAL_API_URL }),
    certUrlPrefixes:
      config.PAYPAL_API_URL === undefined ? PAYPAL_CERT_URL_PREFIXES : [...PAYPAL_CERT_URL_PREFIXES, `${config.PAYPAL_API_URL}/v1/notifications/certs/`],
    simulator: false,
  };
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new Error(`${name} is required when PAYPAL_CLIENT_ID is set`);
  return value;
}
