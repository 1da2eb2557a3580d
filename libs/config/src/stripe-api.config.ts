import { IsIn, IsOptional, Matches } from 'class-validator';
import { BaseServiceConfig } from './base-service.config';
import { IsWholeNumber } from './env-values';
import { NotHttpWhenLive } from './not-http-when-live';

/** Where the local PSP simulator answers Stripe's API: where the SDK goes without STRIPE_SECRET_KEY. */
export const STRIPE_SIMULATOR_API = { host: '127.0.0.1', port: 12111, protocol: 'http' } as const;
/** The key the simulator accepts (public: production refuses to run without a key of its own). */
export const STRIPE_SIMULATOR_SECRET_KEY = 'sk_test_simulator';

/**
 * Where the Stripe SDK sends its requests (docs/configuration.md): unset, Stripe's own API; the
 * services that talk to Stripe (wallet, payment-orchestration) extend it and declare their own
 * STRIPE_SECRET_KEY, which is never sent over http when it is a live key.
 */
export class StripeApiConfig extends BaseServiceConfig {
  @IsOptional()
  @Matches(/^[A-Za-z0-9.-]{1,253}$/, { message: 'must be a host name or address, e.g. api.stripe.com or 127.0.0.1' })
  STRIPE_API_HOST?: string;

  @IsOptional()
  @IsWholeNumber({ min: 1, max: 65535, message: 'must be a whole number between 1 and 65535 (TCP port)' })
  STRIPE_API_PORT?: number;

  @IsOptional()
  @IsIn(['http', 'https'], { message: 'must be http or https' })
  @NotHttpWhenLive(
    (config: { STRIPE_SECRET_KEY?: string }) => config.STRIPE_SECRET_KEY?.includes('_live_') === true,
    'must be https with a live STRIPE_SECRET_KEY',
  )
  STRIPE_API_PROTOCOL?: 'http' | 'https';
}

/** The Stripe SDK's `host`, `port` and `protocol` options. */
export interface StripeApiLocation {
  readonly host?: string;
  readonly port?: number;
  readonly protocol?: 'http' | 'https';
}

type StripeApiVariables = Pick<StripeApiConfig, 'STRIPE_API_HOST' | 'STRIPE_API_PORT' | 'STRIPE_API_PROTOCOL'>;

/**
 * The SDK options for the variables that are set. `simulator`: the local PSP simulator's for those
 * unset (a service without STRIPE_SECRET_KEY talks to the simulator, never to Stripe).
 */
export function stripeApiLocation(config: StripeApiVariables, simulator: boolean): StripeApiLocation {
  const defaults: StripeApiLocation = simulator ? STRIPE_SIMULATOR_API : {};
  const host = config.STRIPE_API_HOST ?? defaults.host;
  const port = config.STRIPE_API_PORT ?? defaults.port;
  const protocol = config.STRIPE_API_PROTOCOL ?? defaults.protocol;
  return { ...(host === undefined ? {} : { host }), ...(port === undefined ? {} : { port }), ...(protocol === undefined ? {} : { protocol }) };
}
