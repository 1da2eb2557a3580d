/**
 * The environment a container starts with, as far as the manifests say: its ConfigMaps, then its
 * env. Two readings: effectiveEnv marks what comes from a Secret (`secret:<name>/<key>`), for
 * rules about where a value comes from; resolveEnv puts a well-formed sample in its place
 * (SECRET_SAMPLES), for rules that run the services' own validation on it.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { DocumentedSecrets } from './docs-tables';
import type { Container, KubeObject } from './kube-objects';
import { dataOf, inNamespaceOf } from './kube-objects';

/** The environment a container starts with: ConfigMaps then env, a Secret's value as `secret:<name>/<key>`. */
export function effectiveEnv(container: Container, owner: KubeObject, objects: readonly KubeObject[]): Map<string, string> {
  const configMaps = new Map(inNamespaceOf(objects, owner, 'ConfigMap').map((o) => [o.metadata.name ?? '', dataOf(o)!]));
  const env = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      for (const [key, value] of Object.entries(configMaps.get(source.configMapRef.name ?? '') ?? {})) env.set(`${source.prefix ?? ''}${key}`, value);
    }
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (variable.value !== undefined) env.set(variable.name, variable.value);
    else if (from?.secretKeyRef) env.set(variable.name, `secret:${from.secretKeyRef.name}/${from.secretKeyRef.key}`);
    else if (from?.configMapKeyRef) env.set(variable.name, configMaps.get(from.configMapKeyRef.name ?? '')?.[from.configMapKeyRef.key] ?? '');
    else env.set(variable.name, '');
  }
  return env;
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
  const publicHalf = ({ d: _d, ...rest }: Record<string, unknown>): Record<string, unknown> => rest;
  return {
    DATABASE_URL: 'postgres://service:sample-password@postgres.postgres.svc:5432/pay?sslmode=verify-full',
    AUTH_JWKS: JSON.stringify({ keys: [publicHalf(identityProvider), publicHalf(orchestration)] }),
    SERVICE_TOKEN_SIGNING_JWK: JSON.stringify(orchestration),
    STEP_UP_SIGNING_JWK: JSON.stringify(ecPrivateJwk('sample-step-up')),
    WALLET_MASTER_KEYS: `2026-01:${randomBytes(32).toString('base64')}`,
    WALLET_MASTER_KEY_ID: '2026-01',
    STRIPE_SECRET_KEY: 'sk_live_sample',
    STRIPE_WEBHOOK_SECRET: 'whsec_sample',
    AD_SIGNALS_PSEUDONYM_KEY: randomBytes(32).toString('base64'),
    AD_SIGNALS_DP_NOISE_KEY: randomBytes(32).toString('base64'),
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
  const configMaps = inNamespaceOf(objects, owner, 'ConfigMap');
  const configMap = (name: string | undefined): Record<string, string> | undefined => dataOf(configMaps.find((o) => o.metadata.name === name));
  const resolved: ResolvedEnv = { env: {}, fromSecrets: new Set(), problems: [] };
  const fromSecret = (variable: string): void => {
    const sample = SECRET_SAMPLES[variable];
    if (sample === undefined) resolved.problems.push(`takes ${variable} from a Secret, and deploy/test/container-env.ts has no sample of it to validate with: add one to SECRET_SAMPLES`);
    else resolved.env[variable] = sample;
    resolved.fromSecrets.add(variable);
  };
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    if (source.configMapRef) for (const [key, value] of Object.entries(configMap(source.configMapRef.name) ?? {})) resolved.env[prefix + key] = value;
    if (source.secretRef) for (const key of secrets.get(source.secretRef.name ?? '') ?? []) fromSecret(prefix + key);
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (variable.value !== undefined) resolved.env[variable.name] = variable.value;
    else if (from?.secretKeyRef) fromSecret(variable.name);
    else if (from?.configMapKeyRef) {
      const value = configMap(from.configMapKeyRef.name)?.[from.configMapKeyRef.key];
      if (value !== undefined) resolved.env[variable.name] = value;
    }
  }
  return resolved;
}
