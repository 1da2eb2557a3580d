import { Transform } from 'class-transformer';
import { isKeyGrants, isPublicKeySet } from '@pay/auth';
import { IsIn, IsOptional, IsString, Matches, ValidateBy, ValidateIf } from 'class-validator';
import { DatabaseConfig } from './database.config';
import { IsWholeNumber, IsFlag, toList } from './env-values';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:9092';
export const KAFKA_SASL_MECHANISMS = ['scram-sha-256', 'scram-sha-512'] as const;

const isProduction = (config: BaseServiceConfig): boolean => config.NODE_ENV === 'production';

/** Variables every service reads (DATABASE_URL and DB_SCHEMA: DatabaseConfig); each service extends it with its own. */
export class BaseServiceConfig extends DatabaseConfig {
  /** `production` refuses development defaults (no token keys, development secrets). */
  @IsIn(['development', 'test', 'production'], { message: 'must be development, test or production' })
  NODE_ENV = 'development';

  // --- Identity: access tokens of every request (libs/auth) ---

  /** The identity provider's public keys, inline JWKS JSON. Without it or AUTH_JWKS_URL every request gets 401. */
  @ValidateIf((config: BaseServiceConfig) => config.AUTH_JWKS !== undefined || (isProduction(config) && config.AUTH_JWKS_URL === undefined))
  @ValidateBy({
    name: 'isPublicKeySet',
    validator: {
      validate: isPublicKeySet,
      defaultMessage: () =>
        'must be a JSON Web Key Set of public keys only, {"keys":[...]} without private members (required in production unless AUTH_JWKS_URL is set)',
    },
  })
  AUTH_JWKS?: string;

  /** Or where the identity provider publishes them. */
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL of a JWKS document' })
  AUTH_JWKS_URL?: string;

  /**
   * What the keys of services that sign their own tokens may claim, by kid (libs/auth key-grants):
   * `{"<kid>": {"subjects": [...], "roles": [...], "scopes": [...]}}`. Required in production, so
   * that payment-orchestration's key is never trusted for every role and subject.
   */
  @ValidateIf((config: BaseServiceConfig) => config.AUTH_KEY_GRANTS !== undefined || isProduction(config))
  @ValidateBy({
    name: 'isKeyGrants',
    validator: {
      validate: isKeyGrants,
      defaultMessage: () => 'must be JSON {"<kid>": {"subjects": [...], "roles": [...], "scopes": [...]}} (required in production; {} grants nothing)',
    },
  })
  AUTH_KEY_GRANTS?: string;

  @IsString()
  @Matches(/^\S{1,200}$/, { message: 'must be the issuer (iss) of access tokens, e.g. https://id.example.com' })
  AUTH_ISSUER = 'https://id.pay.local';

  @IsString()
  @Matches(/^\S{1,200}$/, { message: 'must be the audience (aud) access tokens are issued for' })
  AUTH_AUDIENCE = 'pay-api';

  @Transform(({ value }) => toList(value))
  @Matches(/^[A-Za-z0-9.-]+:\d{1,5}$/, { each: true, message: 'must be a comma-separated list of host:port, e.g. 127.0.0.1:9092' })
  KAFKA_BROKERS: string[] = [DEFAULT_KAFKA_BROKERS];

  /**
   * How the service authenticates to Kafka: as its own SCRAM user (libs/contracts topic-access,
   * the Strimzi KafkaUser of deploy/k8s/base/kafka/users.yaml), whose ACLs allow exactly its
   * topics. Required in production; unset, the connection is unauthenticated (the local broker).
   */
  @ValidateIf((config: BaseServiceConfig) => config.KAFKA_SASL_MECHANISM !== undefined || isProduction(config))
  @IsIn(KAFKA_SASL_MECHANISMS, { message: `must be ${KAFKA_SASL_MECHANISMS.join(' or ')} (required in production: each service is its own Kafka principal)` })
  KAFKA_SASL_MECHANISM?: (typeof KAFKA_SASL_MECHANISMS)[number];

  @ValidateIf((config: BaseServiceConfig) => config.KAFKA_SASL_MECHANISM !== undefined)
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, {
    message: 'must be the Kafka user name (1 to 64 of A-Z, a-z, 0-9, ".", "_" and "-"), required with KAFKA_SASL_MECHANISM',
  })
  KAFKA_SASL_USERNAME?: string;

  @ValidateIf((config: BaseServiceConfig) => config.KAFKA_SASL_MECHANISM !== undefined)
  @Matches(/^\S{8,512}$/, { message: "must be the Kafka user's password (8 to 512 characters, no spaces), required with KAFKA_SASL_MECHANISM" })
  KAFKA_SASL_PASSWORD?: string;

  /** TLS to the brokers (Strimzi's TLS listener). */
  @IsFlag()
  KAFKA_TLS = false;

  /**
   * How long the broker waits for a silent member of the service's consumer groups before it
   * rebalances without it: after a crash, a restarted process waits this long for its partitions
   * (unset: the consumers' default, 10 s). The broker accepts 6 s to 5 minutes by default.
   */
  @IsOptional()
  @IsWholeNumber({ min: 6_000, max: 300_000, unit: 'milliseconds' })
  KAFKA_SESSION_TIMEOUT_MS?: number;

  /**
   * This replica of the service, the same across restarts of its process and different from every
   * other replica (Kubernetes: the pod name, from the downward API; `npm start`: set per service by
   * the supervisor). With it, a process restarted after a crash rejoins its consumer groups as the
   * members its predecessor was, instead of waiting for their sessions to time out (ADR 0015).
   * Unset: every start joins as new members.
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, {
    message: 'must be this replica\'s name, the same across its restarts (e.g. the pod name): 1 to 253 of A-Z, a-z, 0-9, ".", "_" and "-"',
  })
  KAFKA_GROUP_INSTANCE_ID?: string;

  /** Off switch of the above: false joins as new members after every restart, even with KAFKA_GROUP_INSTANCE_ID set. */
  @IsFlag()
  KAFKA_REJOIN_AFTER_RESTART = true;

  /** TCP port of the HTTP API; each service has its own default. */
  @IsOptional()
  @IsWholeNumber({ min: 0, max: 65535, message: 'must be a whole number between 0 and 65535 (TCP port)' })
  PORT?: number;

  @IsString()
  @Matches(/^127\.0\.0\.1$|^0\.0\.0\.0$|^localhost$|^::1?$|^[A-Za-z0-9.-]+$/, { message: 'must be a host name or address to listen on' })
  HOST = '127.0.0.1';

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL = 'info';

  /** Apply pending migrations at start-up (local development); in Kubernetes a Job does it. */
  @IsFlag()
  DB_MIGRATE_ON_START = true;

  /** Checkpoint name of this service's outbox relay (one relay publishes a given outbox at a time). */
  @Matches(/^[a-z0-9_-]{1,64}$/, { message: 'must be 1 to 64 of a-z, 0-9, "_" and "-"' })
  OUTBOX_RELAY_NAME = 'default';

  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL of an OTLP collector, e.g. http://127.0.0.1:4318' })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
}
