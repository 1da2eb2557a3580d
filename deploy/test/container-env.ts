/**
 * The environment a container starts with, as far as the manifests say, read once (envSources)
 * as Kubernetes builds it, for two readings: effectiveEnv marks what comes from a Secret
 * (`secret:<name>/<key>`), for rules about where a value comes from; resolveEnv puts a
 * well-formed sample in its place (SECRET_SAMPLES), for rules that run the services' own
 * validation on it.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { DocumentedSecrets } from './docs-tables';
import type { Container, KubeObject } from './kube-objects';
import { configMapsOf } from './kube-objects';

/** Where a variable's value comes from: a value (a literal or a ConfigMap's), or a key of a Secret. */
export type EnvSource = { value: string } | { secret: string; key: string };

/**
 * Each variable a container starts with, and where its value comes from, as the kubelet builds
 * it: envFrom in order, a later source winning a key, then env, which wins over envFrom.
 * ConfigMaps come from the objects (configMapsOf); a Secret's values never do, and the keys of a
 * whole Secret (envFrom) only from `secrets` (docs/deploy.md), without which it adds nothing.
 * A configMapKeyRef the objects do not resolve sets nothing, as for an optional one (a required
 * one keeps the pod from starting: checkConfigMapReferences reports it). Not modelled, as the
 * manifests use neither: `$(VAR)` expansion, and fieldRef or resourceFieldRef (taken as ""), but
 * for the pod's name (fieldRef metadata.name), which stands in as a Deployment's pod would be named.
 */
export function envSources(container: Container, owner: KubeObject, objects: readonly KubeObject[], secrets?: DocumentedSecrets): Map<string, EnvSource> {
  const configMaps = configMapsOf(objects, owner);
  const sources = new Map<string, EnvSource>();
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    if (source.configMapRef)
      for (const [key, value] of Object.entries(configMaps.get(source.configMapRef.name ?? '') ?? {})) sources.set(prefix + key, { value });
    if (source.secretRef)
      for (const key of secrets?.get(source.secretRef.name ?? '') ?? []) sources.set(prefix + key, { secret: source.secretRef.name ?? '', key });
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (variable.value) sources.set(variable.name, { value: variable.value });
    else if (from?.secretKeyRef) sources.set(variable.name, { secret: from.secretKeyRef.name ?? '', key: from.secretKeyRef.key });
    else if (from?.configMapKeyRef) {
      const value = configMaps.get(from.configMapKeyRef.name ?? '')?.[from.configMapKeyRef.key];
      if (value !== undefined) sources.set(variable.name, { value });
    } else if (from?.fieldRef?.fieldPath === 'metadata.name') sources.set(variable.name, { value: `${owner.metadata?.name ?? 'pod'}-5d8f7c9b6-x7k2p` });
    else sources.set(variable.name, { value: '' });
  }
  return sources;
}

/** The environment a container starts with, a Secret's value as `secret:<name>/<key>` (the keys of an envFrom Secret unknown). */
export function effectiveEnv(container: Container, owner: KubeObject, objects: readonly KubeObject[]): Map<string, string> {
  return new Map(
    [...envSources(container, owner, objects)].map(([name, source]) => [name, 'value' in source ? source.value : `secret:${source.secret}/${source.key}`]),
  );
}

function ecPrivateJwk(kid: string): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
}

/**
 * Well-formed stand-ins for what Secrets hold, by variable name, generated the way docs/deploy.md
 * says to generate the real ones: the services' validation sees values of the right shape. A
 * variable a workload takes from a Secret needs one here.
 */
export const SECRET_SAMPLES: Readonly<Record<string, string>> = (() => {
  const identityProvider = ecPrivateJwk('sample-identity-provider');
  const orchestration = ecPrivateJwk('sample-payment-orchestration');
  const support = ecPrivateJwk('sample-support');
  const payHub = ecPrivateJwk('sample-pay-hub');
  const publicHalf = ({ d: _d, ...rest }: Record<string, unknown>): Record<string, unknown> => rest;
  return {
    DATABASE_URL: 'postgres://service:sample-password@postgres.postgres.svc:5432/pay?sslmode=verify-full',
    AUTH_JWKS: JSON.stringify({ keys: [publicHalf(identityProvider), publicHalf(orchestration), publicHalf(support), publicHalf(payHub)] }),
    SERVICE_TOKEN_SIGNING_JWK: JSON.stringify(orchestration),
    SUPPORT_SERVICE_TOKEN_SIGNING_JWK: JSON.stringify(support),
    HUB_SERVICE_SIGNING_JWK: JSON.stringify(payHub),
    AUTH_KEY_GRANTS: JSON.stringify({
      'sample-payment-orchestration': { subjects: ['payment-orchestration'], roles: ['service'], scopes: ['funds:command', 'instruments:read'] },
      'sample-instagram-backend': {
        subjects: ['instagram-backend'],
        roles: ['service'],
        scopes: ['history:read', 'payments:initiate', 'payments:read', 'payments:refund'],
        apps: ['instagram'],
        merchants: ['instagram-shop'],
      },
      'sample-support': { subjects: ['support'], roles: ['service'], scopes: ['payments:refund'] },
      'sample-pay-hub': { subjects: ['pay-hub'], roles: ['service'], scopes: ['mandates:attest', 'refunds:approve'] },
    }),
    HISTORY_PSEUDONYM_KEY: randomBytes(32).toString('base64'),
    STEP_UP_SIGNING_JWK: JSON.stringify(ecPrivateJwk('sample-step-up')),
    WALLET_MASTER_KEYS: `2026-01:${randomBytes(32).toString('base64')}`,
    WALLET_MASTER_KEY_ID: '2026-01',
    STRIPE_SECRET_KEY: 'sk_live_sample',
    STRIPE_PUBLISHABLE_KEY: 'pk_live_sample',
    STRIPE_WEBHOOK_SECRET: 'whsec_sample',
    KAFKA_SASL_PASSWORD: randomBytes(24).toString('base64url'),
    PAYPAL_CLIENT_ID: 'AbCsampleClientId',
    PAYPAL_CLIENT_SECRET: 'EFGsampleSecret',
    PAYPAL_WEBHOOK_ID: '8PT597110X687430LKGECATA',
    AD_SIGNALS_PSEUDONYM_KEY: randomBytes(32).toString('base64'),
    AD_SIGNALS_DP_NOISE_KEY: randomBytes(32).toString('base64'),
    OIDC_CLIENT_SECRET: randomBytes(24).toString('base64url'),
  };
})();

export interface ResolvedEnv {
  env: Record<string, string>;
  /** Variables that come from a Secret; their value here is a sample. */
  fromSecrets: Set<string>;
  problems: string[];
}

/** The environment a container starts with, Secrets replaced by well-formed samples (the keys of an envFrom Secret from docs/deploy.md). */
export function resolveEnv(container: Container, owner: KubeObject, objects: readonly KubeObject[], secrets: DocumentedSecrets): ResolvedEnv {
  const resolved: ResolvedEnv = { env: {}, fromSecrets: new Set(), problems: [] };
  for (const [variable, source] of envSources(container, owner, objects, secrets)) {
    if ('value' in source) {
      resolved.env[variable] = source.value;
      continue;
    }
    const sample = SECRET_SAMPLES[variable];
    if (sample === undefined)
      resolved.problems.push(
        `takes ${variable} from a Secret, and deploy/test/container-env.ts has no sample of it to validate with: add one to SECRET_SAMPLES`,
      );
    else resolved.env[variable] = sample;
    resolved.fromSecrets.add(variable);
  }
  return resolved;
}
