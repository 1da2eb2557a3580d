import { DatabaseConfig, IsFlag, IsOneOf, IsWholeNumber } from '@pay/config';
import { IsOptional, Matches, ValidateBy, ValidateIf } from 'class-validator';

const URL_PATTERN = /^https?:\/\/[^\s/]+(\/\S*)?$/;
/** Where the development shop finds payment-orchestration when ORCHESTRATION_URL is unset (npm start's port). */
export const DEV_ORCHESTRATION_URL = 'http://127.0.0.1:3002';

const url = (what: string) => ({ message: `must be the http(s) URL of ${what}` });

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

  /** Development sign-in: the private JWK that signs development tokens (the services trust its public half). */
  @ValidateIf((config: PayHubConfig) => config.HUB_SIGN_IN === 'development')
  @Matches(/^\{.*"d"\s*:.*\}$/s, { message: 'must be a private JWK (JSON with "d") when HUB_SIGN_IN=development' })
  HUB_DEV_SIGNING_JWK?: string;

  /** Claims of development tokens: the issuer and audience the services expect. */
  @Matches(/^\S{1,200}$/, { message: 'must be the issuer (iss) the services accept' })
  AUTH_ISSUER = 'https://id.pay.local';

  @Matches(/^\S{1,200}$/, { message: 'must be the audience (aud) the services accept' })
  AUTH_AUDIENCE = 'pay-api';

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

  /** Secure cookies (https only): on unless the hub is served over plain http in development. */
  @IsOptional()
  @IsFlag()
  HUB_SECURE_COOKIES?: boolean;
}
