import { DatabaseConfig, IsFlag, IsOneOf, IsWholeNumber, NotHttpWhenLive } from '@pay/config';
import { IsOptional, Matches, ValidateBy, ValidateIf } from 'class-validator';

const URL_PATTERN = /^https?:\/\/[^\s/]+(\/\S*)?$/;
/** Where the development shop finds payment-orchestration when ORCHESTRATION_URL is unset (npm start's port). */
export const DEV_ORCHESTRATION_URL = 'http://127.0.0.1:3002';

/** Stripe's own Stripe.js: the production default of STRIPE_JS_URL. */
export const STRIPES_OWN_JS_ORIGIN = 'https://js.stripe.com';

const url = (what: string) => ({ message: `must be the http(s) URL of ${what}` });

const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/;

/** A list of origins (scheme, host, port; no path, no wildcard), https only when `live`. */
function IsOriginList<Config>(live: (config: Config) => boolean): PropertyDecorator {
  return ValidateBy({
    name: 'isOriginList',
    validator: {
      validate: (value: unknown, args) =>
        typeof value === 'string' &&
        value.split(/[\s,]+/).every((origin) => origin === '' || (ORIGIN.test(origin) && !(origin.startsWith('http:') && live(args?.object as Config)))),
      defaultMessage: () =>
        'must list origins without path or wildcard, space- or comma-separated, e.g. https://hooks.stripe.com (https in production and with a live key)',
    },
  });
}

/**
 * Environment of the Pay Hub's server (the backend for the web app, docs/adr/0010-pay-hub-sessions.md),
 * validated at start-up: a wrong variable stops it with the variable's name, never its value.
 * DATABASE_URL and DB_SCHEMA (DatabaseConfig): where its sessions live, schema pay_hub by default.
 */
export class PayHubConfig extends DatabaseConfig {
  @IsOneOf(['development', 'test', 'production'])
  NODE_ENV = 'development';

  @IsWholeNumber({ min: 0, max: 65_535 })
  PORT = 3000;

  /** The address to listen on; unset, every interface, IPv4 and IPv6 (browsers may open localhost as ::1). */
  @IsOptional()
  @Matches(/^[A-Za-z0-9.:-]+$/, { message: 'must be a host name or address to listen on, e.g. 0.0.0.0' })
  HOST?: string;

  /** Apply pending migrations of the sessions' schema at start-up (local development); in Kubernetes a Job does it. */
  @IsFlag()
  DB_MIGRATE_ON_START = true;

  /** Where people open the hub (the origin checked on every request that changes something, and OIDC's redirect). */
  @Matches(URL_PATTERN, url('the hub as people open it, e.g. https://pay.example.com'))
  HUB_PUBLIC_URL = 'http://127.0.0.1:3000';

  @Matches(URL_PATTERN, url('the wallet service'))
  WALLET_URL = 'http://127.0.0.1:3001';

  /** Only the development shop calls payment-orchestration (DEV_ORCHESTRATION_URL when unset); production never does. */
  @IsOptional()
  @Matches(URL_PATTERN, url('payment-orchestration'))
  ORCHESTRATION_URL?: string;

  @Matches(URL_PATTERN, url('history-projection'))
  HISTORY_URL = 'http://127.0.0.1:3003';

  /** The support service: its agents' HTTP routes and its chat WebSocket (agents only). */
  @Matches(URL_PATTERN, url('the support service'))
  SUPPORT_URL = 'http://127.0.0.1:3005';

  /**
   * `development`: a sign-in page issues development tokens for a chosen person or analyst, and a
   * development shop makes purchases (refused in production); `oidc`: OpenID Connect, code + PKCE.
   */
  @ValidateBy({
    name: 'isSignInMode',
    validator: {
      validate: (value: unknown, args) =>
        value === 'oidc' || (value === 'development' && (args?.object as PayHubConfig | undefined)?.NODE_ENV !== 'production'),
      defaultMessage: () => 'must be development or oidc, and oidc in production (development sign-in issues tokens for anyone)',
    },
  })
  HUB_SIGN_IN: 'development' | 'oidc' = 'development';

  /**
   * The hub's own key (a private JWK with "kid"): signs its attestations of the debit mandates
   * persons accept on its pages, which the wallet requires to save a bank account, and its
   * approvals of agents' refunds, which orchestration requires of support; its public half in the
   * services' key set, its grant in AUTH_KEY_GRANTS (subject pay-hub, role service, scopes
   * mandates:attest and refunds:approve). Unset: the hub saves no bank account (503
   * MANDATE_ATTESTATION_OFF) and agents refund nothing through it (503 REFUND_APPROVAL_OFF).
   */
  @IsOptional()
  @Matches(/^\{.*"d"\s*:.*"kid"\s*:.*\}$|^\{.*"kid"\s*:.*"d"\s*:.*\}$/s, { message: 'must be a private JWK (JSON with "d" and "kid")' })
  HUB_SERVICE_SIGNING_JWK?: string;

  /**
   * The proxies in front of the hub (the ingress), as IP addresses or CIDR ranges, comma-separated:
   * X-Forwarded-For is believed only for the hops they added, right to left, so the address the
   * hub records (a mandate's acceptance) is the one the last trusted proxy saw. `none` (or unset,
   * outside production): no proxy is trusted and the socket's peer is the client. Required in
   * production, where only the deployment knows its ingress's addresses: a guessed range records
   * the proxy's address, or believes a spoofed one, without a word.
   */
  @ValidateIf((config: PayHubConfig) => config.HUB_TRUSTED_PROXIES !== undefined || config.NODE_ENV === 'production')
  @Matches(/^(none|[0-9A-Fa-f.:]+(\/\d{1,3})?(\s*,\s*[0-9A-Fa-f.:]+(\/\d{1,3})?)*)$/, {
    message:
      "must list the ingress's IP addresses or CIDR ranges, comma-separated, e.g. 10.42.0.0/16,192.0.2.10, or be none when no proxy is in front (required in production)",
  })
  HUB_TRUSTED_PROXIES?: string;

  /** Development sign-in: the private JWK that signs development tokens (the services trust its public half). */
  @ValidateIf((config: PayHubConfig) => config.HUB_SIGN_IN === 'development')
  @Matches(/^\{.*"d"\s*:.*\}$/s, { message: 'must be a private JWK (JSON with "d") when HUB_SIGN_IN=development' })
  HUB_DEV_SIGNING_JWK?: string;

  /** Claims of development tokens: the issuer and audience the services expect. */
  @Matches(/^\S{1,200}$/, { message: 'must be the issuer (iss) the services accept' })
  AUTH_ISSUER = 'https://id.pay.local';

  @Matches(/^\S{1,200}$/, { message: 'must be the audience (aud) the services accept' })
  AUTH_AUDIENCE = 'pay-api';

  /** Development agents' tokens name this audience alone: the support service's (its AUTH_AGENT_AUDIENCE). */
  @Matches(/^\S{1,200}$/, { message: "must be the audience (aud) of support agents' tokens, the support service's AUTH_AGENT_AUDIENCE" })
  AUTH_AGENT_AUDIENCE = 'pay-support';

  /** OIDC: the identity provider the services already trust (its discovery document is at <issuer>/.well-known/openid-configuration). */
  @ValidateIf((config: PayHubConfig) => config.HUB_SIGN_IN === 'oidc')
  @Matches(URL_PATTERN, url('the OpenID Connect issuer (required when HUB_SIGN_IN=oidc)'))
  OIDC_ISSUER?: string;

  @ValidateIf((config: PayHubConfig) => config.HUB_SIGN_IN === 'oidc')
  @Matches(/^\S{1,200}$/, { message: "must be the hub's client id at the identity provider (required when HUB_SIGN_IN=oidc)" })
  OIDC_CLIENT_ID?: string;

  /** A confidential client's secret; unset for a public client (PKCE alone). */
  @IsOptional()
  @Matches(/^\S{8,500}$/, { message: 'must be the client secret (8 to 500 characters, no spaces)' })
  OIDC_CLIENT_SECRET?: string;

  @Matches(/^openid( [A-Za-z0-9_:.-]+)*$/, { message: 'must be space-separated scopes starting with openid' })
  OIDC_SCOPES = 'openid';

  /** A session ends this long after sign-in (the access token may end sooner: then the person signs in again). */
  @IsWholeNumber({ min: 1, max: 24 * 60, unit: 'minutes' })
  HUB_SESSION_MINUTES = 60;

  /** The built web app (vite build); the server answers with its files. */
  @Matches(/^\S+$/, { message: 'must be a directory' })
  HUB_STATIC_DIR = 'dist/apps/pay-hub/web';

  /**
   * Adding a card (docs/pay-hub.md, "Cards and PayPal"): the hub opens a SetupIntent at the PSP
   * with this key (in production a restricted key: SetupIntents write, PaymentMethods read), the
   * methods page loads Stripe.js (STRIPE_JS_URL) with STRIPE_PUBLISHABLE_KEY, the person types the
   * card into its card Element (a frame of Stripe.js's origin), and the hub saves the PaymentMethod
   * the PSP made. Both keys unset: no card can be added from the hub.
   */
  @IsOptional()
  @Matches(/^(sk|rk)_(test|live)_[A-Za-z0-9_]{4,}$/, { message: 'must be a Stripe secret or restricted key (sk_… or rk_…)' })
  STRIPE_SECRET_KEY?: string;

  @ValidateIf((config: PayHubConfig) => config.STRIPE_SECRET_KEY !== undefined)
  @Matches(/^pk_(test|live)_[A-Za-z0-9_]{4,}$/, { message: 'must be a Stripe publishable key (pk_…), required with STRIPE_SECRET_KEY' })
  STRIPE_PUBLISHABLE_KEY?: string;

  /**
   * A card setup (SetupIntent) neither saved nor cancelled this long after the hub opened it is
   * abandoned: the hub cancels it at the PSP (docs/pay-hub.md, "Abandoned card setups"). Long enough
   * for a person to type a card and answer their bank's challenge: at least 10 minutes in production.
   */
  @IsWholeNumber({ min: 1, max: 7 * 24 * 3600, unit: 'seconds' })
  @ValidateBy({
    name: 'isLongEnoughInProduction',
    validator: {
      validate: (value: unknown, args) => (args?.object as PayHubConfig).NODE_ENV !== 'production' || (typeof value === 'number' && value >= 600),
      defaultMessage: () => 'must be at least 600 seconds in production (a person may still be answering their bank)',
    },
  })
  HUB_CARD_SETUP_ABANDON_SECONDS = 3600;

  /**
   * Where the pages load Stripe.js from: Stripe's own in production (its card Element must come from
   * Stripe for the card to stay out of our pages and PCI scope), the simulator's stand-in
   * (`http://127.0.0.1:12111/v3`) in development and tests. Its origin is the one the pages'
   * Content-Security-Policy lets run scripts and be framed.
   */
  @Matches(/^https?:\/\/[^\s/?#]+\/[^\s?#]*$/, { message: 'must be the http(s) URL of Stripe.js without query or fragment, e.g. https://js.stripe.com/v3' })
  @NotHttpWhenLive(
    (config: PayHubConfig) => config.NODE_ENV === 'production' || config.STRIPE_PUBLISHABLE_KEY?.startsWith('pk_live_') === true,
    'must be https in production and with a live STRIPE_PUBLISHABLE_KEY',
  )
  STRIPE_JS_URL = `${STRIPES_OWN_JS_ORIGIN}/v3`;

  /**
   * The PSP's origins, besides Stripe.js's own, that the pages' Content-Security-Policy lets be
   * framed (frame-src: 3-D Secure's challenge) and called (connect-src), space- or comma-separated
   * origins, no wildcard (content-security-policy.ts). Unset: with Stripe's own Stripe.js, what
   * Stripe's guide lists (https://js.stripe.com https://hooks.stripe.com; https://api.stripe.com);
   * with the simulator's stand-in, none.
   */
  @IsOptional()
  @IsOriginList((config: PayHubConfig) => config.NODE_ENV === 'production' || config.STRIPE_PUBLISHABLE_KEY?.startsWith('pk_live_') === true)
  STRIPE_FRAME_ORIGINS?: string;

  @IsOptional()
  @IsOriginList((config: PayHubConfig) => config.NODE_ENV === 'production' || config.STRIPE_PUBLISHABLE_KEY?.startsWith('pk_live_') === true)
  STRIPE_CONNECT_ORIGINS?: string;

  /** Where the Stripe SDK sends its calls (the simulator in development); unset: Stripe itself. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9.-]+$/, { message: 'must be a host name or address, e.g. 127.0.0.1' })
  STRIPE_API_HOST?: string;

  @IsOptional()
  @IsWholeNumber({ min: 1, max: 65_535 })
  STRIPE_API_PORT?: number;

  @IsOptional()
  @IsOneOf(['http', 'https'])
  STRIPE_API_PROTOCOL?: 'http' | 'https';

  /**
   * Saving a PayPal account (docs/pay-hub.md, "Cards and PayPal"): PayPal's REST API (the
   * simulator in development) and the hub's client there, for Vault setup tokens. All unset: no
   * PayPal account can be added from the hub.
   */
  @IsOptional()
  @Matches(URL_PATTERN, url("PayPal's REST API, e.g. https://api-m.paypal.com"))
  PAYPAL_API_URL?: string;

  @ValidateIf((config: PayHubConfig) => config.PAYPAL_API_URL !== undefined)
  @Matches(/^\S{1,200}$/, { message: "must be the hub's PayPal client id (required with PAYPAL_API_URL)" })
  PAYPAL_CLIENT_ID?: string;

  @ValidateIf((config: PayHubConfig) => config.PAYPAL_API_URL !== undefined)
  @Matches(/^\S{8,500}$/, { message: "must be the hub's PayPal client secret (required with PAYPAL_API_URL)" })
  PAYPAL_CLIENT_SECRET?: string;

  /** OTLP/HTTP collector for the hub's spans and metrics (instrument.ts reads it first); unset: Prometheus at /metrics only. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL of an OTLP collector, e.g. http://127.0.0.1:4318' })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** Secure cookies (https only): on unless the hub is served over plain http in development. */
  @IsOptional()
  @IsFlag()
  HUB_SECURE_COOKIES?: boolean;
}
