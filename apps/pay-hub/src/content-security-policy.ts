import type { PayHubConfig } from './config';
import { STRIPES_OWN_JS_ORIGIN } from './config';

/**
 * What Stripe's integration security guide asks a page's Content-Security-Policy to allow for
 * Stripe.js and Elements, 3-D Secure included, named origin by origin (the guide also lists
 * `https://*.js.stripe.com`: the hub allows no wildcard, so a subdomain the browser reports
 * refused is added by name to STRIPE_FRAME_ORIGINS or STRIPE_CONNECT_ORIGINS).
 */
export const STRIPES_OWN_FRAME_ORIGINS = ['https://js.stripe.com', 'https://hooks.stripe.com'] as const;
export const STRIPES_OWN_CONNECT_ORIGINS = ['https://api.stripe.com'] as const;

/** The PSP's origins a page of the hub may run scripts from, frame, and call (besides its own). */
export interface PspBrowserOrigins {
  script: readonly string[];
  frame: readonly string[];
  connect: readonly string[];
}

const listOf = (value: string | undefined): string[] | undefined => value?.split(/[\s,]+/).filter((origin) => origin !== '');

/**
 * Undefined when the hub adds no cards (no Stripe keys): its pages then run their own scripts
 * only and frame nothing. Stripe.js's origin (STRIPE_JS_URL) always runs scripts and is framed;
 * with Stripe's own Stripe.js the frames and calls Stripe lists are added unless configured
 * otherwise; with the simulator's stand-in (development and tests) nothing else is, unless configured.
 */
export function pspBrowserOrigins(config: PayHubConfig): PspBrowserOrigins | undefined {
  if (!config.STRIPE_SECRET_KEY || !config.STRIPE_PUBLISHABLE_KEY) return undefined;
  const stripeJs = new URL(config.STRIPE_JS_URL).origin;
  const stripes = stripeJs === STRIPES_OWN_JS_ORIGIN;
  const frame = listOf(config.STRIPE_FRAME_ORIGINS) ?? (stripes ? [...STRIPES_OWN_FRAME_ORIGINS] : []);
  const connect = listOf(config.STRIPE_CONNECT_ORIGINS) ?? (stripes ? [...STRIPES_OWN_CONNECT_ORIGINS] : []);
  return { script: [stripeJs], frame: [...new Set([stripeJs, ...frame])], connect: [...new Set(connect)] };
}

/** The header every response of the hub carries: its own origin, plus the PSP's where cards are added. */
export function contentSecurityPolicy(psp: PspBrowserOrigins | undefined): string {
  const withSelf = (origins: readonly string[] | undefined) => ["'self'", ...(origins ?? [])].join(' ');
  return [
    "default-src 'self'",
    `script-src ${withSelf(psp?.script)}`,
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${withSelf(psp?.connect)}`,
    `frame-src ${psp && psp.frame.length > 0 ? psp.frame.join(' ') : "'none'"}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}
