/**
 * The Kubernetes manifests (deploy/k8s): every overlay renders with `kubectl kustomize`, every
 * object is valid against the Kubernetes API schemas, and our rules hold (deploy/test/
 * manifest-rules.ts, and the wiring rules below: each service's own config class and file
 * parsers accept what the manifests give it, every Secret is documented, the Ingress routes the
 * public API and nothing internal, the NetworkPolicies let each call through). Then the rules
 * themselves are tested: the render, broken in one way at a time, must be reported by name.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { BaseServiceConfig } from '@pay/config';
import { ConfigError, loadConfig } from '@pay/config';
import { allTopicSpecs } from '@pay/contracts';
import { parseRolloutFile } from '@pay/rollout';
import { getMetadataStorage } from 'class-validator';
import type { IIngressSpec } from 'kubernetes-models/networking.k8s.io/v1/IngressSpec';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import type { INetworkPolicySpec } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicySpec';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IContainerPort } from 'kubernetes-models/v1/ContainerPort';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IServiceSpec } from 'kubernetes-models/v1/ServiceSpec';
import { AdSignalAggregationConfig } from '../../apps/ad-signal-aggregation/src/config';
import { HistoryProjectionConfig } from '../../apps/history-projection/src/config';
import { NonProfitRegistry } from '../../apps/payment-orchestration/src/check-purchase/non-profit-registry';
import { PaymentOrchestrationConfig } from '../../apps/payment-orchestration/src/config';
import { WalletConfig } from '../../apps/wallet/src/config';
import { CONSUMED_TOPICS } from '../../deploy/test/consumed-topics';
import type { Finding, KubeObject, Workload } from '../../deploy/test/kube-objects';
import { describeObject, formatFinding, selectorMatches, workloads } from '../../deploy/test/kube-objects';
import { validateSchemas } from '../../deploy/test/kube-schema';
import type { RuleContext } from '../../deploy/test/manifest-rules';
import { checkManifests, effectiveEnv, SERVICE_LABEL } from '../../deploy/test/manifest-rules';
import { overlayNames, renderOverlay } from '../../deploy/test/render';
import { rebuildTarget } from '../history/rebuild';
import { migrationPlan } from '../migrate';

const ROOT = resolve(__dirname, '../..');

/** Every overlay and what it must be; a new overlay fails the test until it is listed here. */
const ENVIRONMENTS: Readonly<Record<string, { namespace: string; production: boolean; host: string }>> = {
  dev: { namespace: 'pay-dev', production: false, host: 'api.pay-dev.example.com' },
  prod: { namespace: 'pay', production: true, host: 'api.pay.example.com' },
};

const SERVICES = Object.keys(CONSUMED_TOPICS);
const TOPICS = allTopicSpecs();

function contextOf(overlay: string): RuleContext {
  return { production: ENVIRONMENTS[overlay].production, topics: TOPICS, consumedTopics: CONSUMED_TOPICS };
}

const rendered = new Map<string, KubeObject[]>();
/** Renders each overlay once; a fresh deep copy for every caller, free to mutate. */
function objectsOf(overlay: string): KubeObject[] {
  if (!rendered.has(overlay)) rendered.set(overlay, renderOverlay(overlay));
  return structuredClone(rendered.get(overlay)!);
}

const find = (objects: KubeObject[], kind: string, name: string): KubeObject | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

function get(objects: KubeObject[], kind: string, name: string): KubeObject {
  const object = find(objects, kind, name);
  if (!object) throw new Error(`no ${kind} ${name} among the rendered objects`);
  return object;
}

function podSpec(object: KubeObject): IPodSpec {
  return (object.spec as { template: { spec: IPodSpec } }).template.spec;
}

/** The smallest partition count among the topics a service consumes, from libs/contracts. */
function partitionCeiling(service: string): number {
  return Math.min(...CONSUMED_TOPICS[service].map((topic) => TOPICS.find((spec) => spec.name === topic)!.partitions));
}

// ---- Wiring: what the services check at start-up, what they read, who may reach them ---------
//
// Rules beyond deploy/test/manifest-rules.ts, each a function of the rendered objects (and of the
// Secrets docs/deploy.md documents), so the tests below can break an object and see them bite:
//
// - config-env    every server gets a configuration that passes the service's own config class
//                 (Secrets stand in as well-formed samples) under NODE_ENV=production, and every
//                 Job one that its tool's own validation accepts (TOOL_CONFIGS); nothing it reads
//                 resolves to a loopback address; a Job takes from Secrets only what its tool
//                 reads; a server has what it needs beyond validation (REQUIRED_IN_CLUSTER);
//                 settings that services share agree
// - config-files  every file a server reads (`*_PATH`) is mounted from a ConfigMap, not baked into
//                 the image, without subPath (never updated), and the service's own parser
//                 accepts the committed content; a shared file comes from one ConfigMap
// - references    every Secret a pod or an Ingress names is documented (docs/deploy.md,
//                 "Secrets", name and key); every ConfigMap volume exists, with its keys
// - ingress       an Ingress has a class, a host, TLS for it with a Secret, routes to a Service
//                 port that reaches a container port, exposes no health, metrics, docs or key
//                 route, and the NetworkPolicies let the controller in; a service that lets the
//                 controller in has a route
// - network       a server that calls another Service of the namespace (an http URL in its
//                 environment) may reach its pods, and they admit it, on that port

/** The config class each service validates at start-up. */
const CONFIG_CLASSES: Readonly<Record<string, new () => BaseServiceConfig>> = {
  wallet: WalletConfig,
  'payment-orchestration': PaymentOrchestrationConfig,
  'history-projection': HistoryProjectionConfig,
  'ad-signal-aggregation': AdSignalAggregationConfig,
};

/**
 * What a Job's command validates before it does anything: the tool's own validation, given the
 * Job's environment. It returns the configuration it loaded (an instance of the config class the
 * tool reads, whose variables are all the tool reads) and throws ConfigError where the tool would
 * refuse to start. null: the tool reads only plain variables.
 */
const TOOL_CONFIGS: Readonly<Record<string, ((env: Readonly<Record<string, string>>) => object) | null>> = {
  // DATABASE_URL, DB_SCHEMA and SERVICE.
  'node dist/tools/migrate.js': (env) => migrationPlan([], env).config,
  // DATABASE_URL and DB_SCHEMA.
  'node dist/tools/history/rebuild.js': (env) => rebuildTarget(env).config,
  // DATABASE_URL and LEDGER_SCHEMA only (tools/ledger/ledger-cli.ts).
  'node dist/tools/ledger/verify.js': null,
};

/** The variables a config class reads: those it declares a validation rule for, its base classes' included. */
function variablesOf(configClass: abstract new () => object): Set<string> {
  return new Set(getMetadataStorage().getTargetValidationMetadatas(configClass, '', false, false).map((rule) => rule.propertyName));
}

/**
 * What a server needs in a cluster although validation lets it start without: without a Stripe
 * key orchestration talks to the PSP simulator (not deployed), without its token key the wallet
 * refuses its instrument lookups and card payments wait.
 */
const REQUIRED_IN_CLUSTER: Readonly<Record<string, readonly string[]>> = {
  'payment-orchestration': ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'SERVICE_TOKEN_SIGNING_JWK'],
};

/** Settings that must be equal in the services named (AUTH_* signs and checks the same tokens). */
const SHARED_SETTINGS: ReadonlyArray<[setting: string, services: readonly string[]]> = [
  ['AUTH_ISSUER', SERVICES],
  ['AUTH_AUDIENCE', SERVICES],
  ['STEP_UP_ISSUER', ['wallet', 'payment-orchestration']],
];

/** The service's own parser of each file it reads. */
const FILE_PARSERS: Readonly<Record<string, (text: string) => unknown>> = {
  ROLLOUT_CONFIG_PATH: parseRolloutFile,
  NON_PROFITS_CONFIG_PATH: (text) => NonProfitRegistry.parse(text),
};

/** Files several services read, which must come from one ConfigMap key. */
const SHARED_FILES = ['ROLLOUT_CONFIG_PATH'];

/** Where the ingress controller runs (docs/deploy.md, "What the cluster must provide"). */
const INGRESS_CONTROLLER: Endpoint = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };

/** Routes every service has that must never be public: probes, metrics, the OpenAPI page, the step-up keys. */
const PLATFORM_ROUTES = ['/health/live', '/health/ready', '/metrics', '/docs', '/docs/json', '/.well-known/step-up-jwks.json'];

function ecPrivateJwk(kid: string): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
}

/**
 * Well-formed stand-ins for what Secrets hold, by variable name, generated the way docs/deploy.md
 * says to generate the real ones: the services' validation sees values of the right shape.
 */
const SECRET_SAMPLES: Readonly<Record<string, string>> = (() => {
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

/** The Secrets docs/deploy.md tells operators to create: its "Secrets" table, name to keys. */
type DocumentedSecrets = ReadonlyMap<string, ReadonlySet<string>>;

function documentedSecrets(markdown: string): DocumentedSecrets {
  const section = /^## Secrets\n([\s\S]*?)(?=^## )/m.exec(markdown)?.[1] ?? '';
  const secrets = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const row = /^\|\s*`([^`]+)`\s*\|([^|]*)\|/.exec(line);
    if (!row) continue;
    const keys = secrets.get(row[1]) ?? new Set<string>();
    for (const key of row[2].matchAll(/`([^`]+)`/g)) keys.add(key[1]);
    secrets.set(row[1], keys);
  }
  return secrets;
}

/**
 * The "read by" column of that table, by `Secret/key`: a Deployment by its service's name (`every
 * service`: all of them), a Job or CronJob by its name in backquotes; other words say nothing.
 */
function documentedReaders(markdown: string, services: readonly string[]): Map<string, Set<string>> {
  const section = /^## Secrets\n([\s\S]*?)(?=^## )/m.exec(markdown)?.[1] ?? '';
  const readers = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const row = /^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|/.exec(line);
    if (!row) continue;
    const names = new Set<string>();
    for (const part of row[3].split(',').map((text) => text.trim())) {
      if (part === 'every service') services.forEach((service) => names.add(service));
      else if (/^`[^`]+`$/.test(part) || services.includes(part)) names.add(part);
    }
    for (const key of row[2].matchAll(/`([^`]+)`/g)) readers.set(`${row[1]}/${key[1]}`, new Set([...(readers.get(`${row[1]}/${key[1]}`) ?? []), ...names]));
  }
  return readers;
}

const DEPLOY_MD = readFileSync(resolve(ROOT, 'docs/deploy.md'), 'utf8');
const DOCUMENTED_SECRETS = documentedSecrets(DEPLOY_MD);

const inNamespaceOf = (objects: readonly KubeObject[], owner: KubeObject, kind: string): KubeObject[] =>
  objects.filter((o) => o.kind === kind && (o.metadata.namespace ?? '') === (owner.metadata.namespace ?? ''));

const dataOf = (configMap: KubeObject | undefined): Record<string, string> | undefined => configMap && ((configMap.data ?? {}) as Record<string, string>);

function commandOf(container: IContainer): string | undefined {
  return container.command ? [...container.command, ...(container.args ?? [])].join(' ') : undefined;
}

interface ResolvedEnv {
  env: Record<string, string>;
  /** Variables that come from a Secret; their value here is a sample. */
  fromSecrets: Set<string>;
  problems: string[];
}

/** The environment a container starts with, Secrets replaced by well-formed samples. */
function resolveEnv(container: IContainer, owner: KubeObject, objects: readonly KubeObject[], secrets: DocumentedSecrets): ResolvedEnv {
  const configMaps = inNamespaceOf(objects, owner, 'ConfigMap');
  const configMap = (name: string | undefined): Record<string, string> | undefined => dataOf(configMaps.find((o) => o.metadata.name === name));
  const resolved: ResolvedEnv = { env: {}, fromSecrets: new Set(), problems: [] };
  const fromSecret = (variable: string): void => {
    const sample = SECRET_SAMPLES[variable];
    if (sample === undefined) resolved.problems.push(`takes ${variable} from a Secret, and tools/test/k8s-manifests.spec.ts has no sample of it to validate with: add one to SECRET_SAMPLES`);
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

const LOOPBACK = /(?:^|[/@,\s])(?:127(?:\.\d{1,3}){3}|localhost)(?=$|[:/,\s])/i;

type Say = (object: Pick<KubeObject, 'kind' | 'metadata'>, rule: string, message: string) => void;

/** How a container validates its configuration at start-up, null when it reads only plain variables, or why the test cannot tell. */
type Validation = { service?: string; what: string; load: (env: Readonly<Record<string, string>>) => object } | null | string;

function validationOf(workload: Workload, container: IContainer): Validation {
  if (workload.longRunning) {
    const service = workload.template.metadata?.labels?.[SERVICE_LABEL];
    const configClass = service === undefined ? undefined : CONFIG_CLASSES[service];
    if (!configClass) return `validates the configuration of ${service ?? '<no service label>'}, which is not a service of CONFIG_CLASSES`;
    return { service, what: service!, load: (env) => loadConfig(service!, configClass, env) };
  }
  const command = commandOf(container);
  const load = command === undefined ? undefined : TOOL_CONFIGS[command];
  if (load === undefined) return `runs ${command ?? 'its image'}: say in TOOL_CONFIGS (tools/test/k8s-manifests.spec.ts) what it validates`;
  return load && { what: command!, load };
}

/** A loaded configuration by Deployment, for the settings services must share. */
type LoadedConfigs = Map<KubeObject, { service: string; config: Record<string, unknown> }>;

function checkConfigEnv(objects: readonly KubeObject[], secrets: DocumentedSecrets, say: Say): LoadedConfigs {
  const loaded: LoadedConfigs = new Map();
  for (const workload of workloads(objects)) {
    for (const container of workload.template.spec?.containers ?? []) {
      const { env, fromSecrets, problems } = resolveEnv(container, workload.owner, objects, secrets);
      const report = (message: string): void => say(workload.owner, 'config-env', `container ${container.name} ${message}`);
      const validation = validationOf(workload, container);
      if (validation === null) continue;
      if (typeof validation === 'string') {
        report(validation);
        continue;
      }
      problems.forEach(report);
      let loadedConfig: object;
      try {
        loadedConfig = validation.load(env);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        for (const problem of error.problems) report(`would not start: ${problem}`);
        continue;
      }
      const config = loadedConfig as Record<string, unknown>;
      const reads = variablesOf(loadedConfig.constructor as new () => object);
      if (reads.has('NODE_ENV') && env.NODE_ENV !== 'production') {
        report(`runs with NODE_ENV=${env.NODE_ENV ?? '<unset>'}: set production (platform-config), under which the services refuse development keys and defaults`);
      }
      if (!workload.longRunning) {
        for (const variable of [...fromSecrets].filter((name) => !reads.has(name))) {
          report(`takes ${variable} from a Secret, and ${validation.what} never reads it (it reads ${[...reads].join(', ')}): a Job gets only the keys its tool uses`);
        }
      }
      for (const [setting, value] of Object.entries(config)) {
        if (!reads.has(setting)) continue;
        const text = Array.isArray(value) ? value.join(',') : value;
        if (typeof text === 'string' && LOOPBACK.test(text)) {
          report(`has ${setting}=${text}${setting in env ? '' : ' (its default)'}, a loopback address: in a pod it reaches nothing; set the in-cluster address`);
        }
      }
      const { service } = validation;
      if (workload.longRunning && service !== undefined) {
        for (const variable of REQUIRED_IN_CLUSTER[service] ?? []) {
          if (!(variable in env)) report(`does not set ${variable}, which ${service} needs in a cluster (REQUIRED_IN_CLUSTER)`);
        }
        if (workload.owner.kind === 'Deployment') loaded.set(workload.owner, { service, config });
      }
    }
  }
  for (const [setting, services] of SHARED_SETTINGS) {
    const values = [...loaded].filter(([, { service }]) => services.includes(service));
    const distinct = new Set(values.map(([, { config }]) => String(config[setting])));
    if (distinct.size > 1) {
      const summary = values.map(([, { service, config }]) => `${service} ${String(config[setting])}`).join(', ');
      for (const [owner] of values) say(owner, 'config-env', `${setting} differs between ${services.join(', ')}: ${summary}`);
    }
  }
  return loaded;
}

function checkConfigFiles(objects: readonly KubeObject[], loaded: LoadedConfigs, say: Say): void {
  const sources = new Map<string, Array<[KubeObject, string]>>();
  for (const [owner, { config }] of loaded) {
    const pod = (owner.spec as { template: { spec: IPodSpec } }).template.spec;
    const container = pod.containers[0];
    const report = (message: string): void => say(owner, 'config-files', message);
    for (const [setting, value] of Object.entries(config)) {
      if (!setting.endsWith('_PATH') || typeof value !== 'string') continue;
      const parse = FILE_PARSERS[setting];
      if (!parse) {
        report(`reads a file from ${setting}: give FILE_PARSERS (tools/test/k8s-manifests.spec.ts) the service's parser of it`);
        continue;
      }
      if (!value.startsWith('/')) {
        report(`${setting}=${value} is relative: the service would read the copy baked into the image; mount the file from a ConfigMap and set its absolute path`);
        continue;
      }
      const mount = (container.volumeMounts ?? [])
        .filter((m) => value === m.mountPath || value.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))
        .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      const volume = mount && pod.volumes?.find((v) => v.name === mount.name);
      if (!mount || !volume) {
        report(`${setting}=${value} is on no volume of the pod: mount the file from a ConfigMap`);
        continue;
      }
      if (!volume.configMap) {
        report(`${setting}=${value} is on volume ${volume.name}, which is not a ConfigMap`);
        continue;
      }
      if (mount.subPath) report(`mounts ${setting}'s file with subPath ${mount.subPath}: the kubelet never updates a subPath mount; mount the directory`);
      const path = mount.subPath ?? value.slice(mount.mountPath.replace(/\/$/, '').length + 1);
      const key = volume.configMap.items ? volume.configMap.items.find((item) => item.path === path)?.key : path;
      const configMapName = volume.configMap.name ?? '';
      const data = dataOf(inNamespaceOf(objects, owner, 'ConfigMap').find((o) => o.metadata.name === configMapName));
      const text = key === undefined ? undefined : data?.[key];
      if (text === undefined) {
        report(`${setting}=${value} is on ConfigMap ${configMapName}, which ${data ? `has no key ${key ?? path} for it` : 'is not among the manifests'}`);
        continue;
      }
      try {
        parse(text);
      } catch (error) {
        report(`${setting}: the service would refuse ${configMapName}/${key}: ${(error as Error).message}`);
      }
      if (SHARED_FILES.includes(setting)) sources.set(setting, [...(sources.get(setting) ?? []), [owner, `${configMapName}/${key}`]]);
    }
  }
  for (const [setting, readers] of sources) {
    if (new Set(readers.map(([, source]) => source)).size > 1) {
      const summary = readers.map(([owner, source]) => `${owner.metadata.name} ${source}`).join(', ');
      for (const [owner] of readers) say(owner, 'config-files', `${setting} is one file shared by its readers, but they mount different ConfigMap keys: ${summary}`);
    }
  }
}

function checkExternalReferences(objects: readonly KubeObject[], secrets: DocumentedSecrets, say: Say): void {
  /** Why a Secret (and key) reference would not resolve once the operator created what docs/deploy.md lists, or undefined. */
  const undocumented = (name: string | undefined, key?: string): string | undefined => {
    const keys = secrets.get(name ?? '');
    if (!keys) return `Secret ${name}, which docs/deploy.md ("Secrets") does not tell operators to create`;
    if (key !== undefined && !keys.has(key)) return `key ${key} of Secret ${name}, which docs/deploy.md ("Secrets") does not list`;
    return undefined;
  };
  for (const { owner, template } of workloads(objects)) {
    const pod = template.spec ?? { containers: [] };
    const report = (message: string): void => say(owner, 'references', message);
    for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        const problem = ref && !ref.optional ? undocumented(ref.name, ref.key) : undefined;
        if (problem) report(`container ${container.name} reads ${variable.name} from ${problem}`);
      }
      for (const source of container.envFrom ?? []) {
        const problem = source.secretRef && !source.secretRef.optional ? undocumented(source.secretRef.name) : undefined;
        if (problem) report(`container ${container.name} takes env from ${problem}`);
      }
      for (const mount of container.volumeMounts ?? []) {
        if (!pod.volumes?.some((volume) => volume.name === mount.name)) report(`container ${container.name} mounts volume ${mount.name}, which the pod does not declare`);
      }
    }
    for (const volume of pod.volumes ?? []) {
      if (volume.secret && !volume.secret.optional) {
        for (const key of volume.secret.items?.map((item) => item.key) ?? [undefined]) {
          const problem = undocumented(volume.secret.secretName, key);
          if (problem) report(`volume ${volume.name} mounts ${problem}`);
        }
      }
      const ref = volume.configMap;
      if (!ref || ref.optional) continue;
      const data = dataOf(inNamespaceOf(objects, owner, 'ConfigMap').find((o) => o.metadata.name === ref.name));
      if (!data) report(`volume ${volume.name} mounts ConfigMap ${ref.name}, which is not among the manifests`);
      else for (const item of ref.items ?? []) if (!(item.key in data)) report(`volume ${volume.name} mounts key ${item.key}, which ConfigMap ${ref.name} lacks`);
    }
  }
  for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
    for (const tls of (ingress.spec as IIngressSpec | undefined)?.tls ?? []) {
      const problem = undocumented(tls.secretName);
      if (problem) say(ingress, 'references', `serves TLS from ${problem}`);
    }
  }
}

// ---- Endpoints, NetworkPolicies and Ingress routes, evaluated as the cluster would -------------

/** A pod (namespace and labels, and its named ports) or an address outside the cluster. */
interface Endpoint {
  namespace?: string;
  labels?: Readonly<Record<string, string>>;
  ports?: readonly IContainerPort[];
  ip?: string;
}

interface Port {
  number: number;
  name?: string;
  protocol: string;
}

function ipv4(address: string): number | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + part, 0);
}

/** Whether an IPv4 CIDR holds the address (an IPv6 CIDR holds no IPv4 address). */
function cidrContains(cidr: string, address: string): boolean {
  const [base, bits] = cidr.split('/');
  const network = ipv4(base);
  const ip = ipv4(address);
  if (network === undefined || ip === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(network / size) === Math.floor(ip / size);
}

function peerMatches(peer: INetworkPolicyPeer, policyNamespace: string, target: Endpoint): boolean {
  if (peer.ipBlock) return target.ip !== undefined && cidrContains(peer.ipBlock.cidr, target.ip) && !(peer.ipBlock.except ?? []).some((cidr) => cidrContains(cidr, target.ip!));
  if (target.ip !== undefined) return false;
  const namespaceLabels = { 'kubernetes.io/metadata.name': target.namespace ?? '' };
  const namespaceOk = peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, namespaceLabels) : target.namespace === policyNamespace;
  return namespaceOk && (!peer.podSelector || selectorMatches(peer.podSelector, target.labels));
}

function portMatches(ports: readonly INetworkPolicyPort[] | undefined, port: Port): boolean {
  if (!ports?.length) return true;
  return ports.some((candidate) => {
    if ((candidate.protocol ?? 'TCP') !== port.protocol) return false;
    if (candidate.port === undefined) return true;
    if (typeof candidate.port === 'string') return candidate.port === port.name;
    return candidate.endPort === undefined ? candidate.port === port.number : port.number >= candidate.port && port.number <= candidate.endPort;
  });
}

/** Whether the NetworkPolicies among the objects let `from` open a connection to `to` on the port. */
function networkAllows(objects: readonly KubeObject[], from: Endpoint, to: Endpoint, port: Port): boolean {
  const side = (pod: Endpoint, peer: Endpoint, direction: 'Ingress' | 'Egress'): boolean => {
    if (pod.ip !== undefined) return true;
    const policies = objects.filter((o) => {
      const spec = o.spec as INetworkPolicySpec | undefined;
      const types = spec?.policyTypes ?? (spec?.egress ? ['Ingress', 'Egress'] : ['Ingress']);
      return o.kind === 'NetworkPolicy' && o.metadata.namespace === pod.namespace && selectorMatches(spec?.podSelector, pod.labels) && types.includes(direction);
    });
    if (policies.length === 0) return true;
    return policies.some((policy) => {
      const spec = policy.spec as INetworkPolicySpec;
      const rules = direction === 'Ingress' ? (spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports })) : (spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
      return rules.some((rule) => (!rule.peers?.length || rule.peers.some((p) => peerMatches(p, pod.namespace ?? '', peer))) && portMatches(rule.ports, port));
    });
  };
  return side(from, to, 'Egress') && side(to, from, 'Ingress');
}

function podsOf(workload: KubeObject): Endpoint {
  const template = (workload.spec as { template?: { metadata?: { labels?: Record<string, string> }; spec?: IPodSpec } }).template;
  return { namespace: workload.metadata.namespace, labels: template?.metadata?.labels ?? {}, ports: template?.spec?.containers.flatMap((c) => c.ports ?? []) ?? [] };
}

/** The Deployments behind a Service's port, with the container port it reaches on each; or what is wrong. */
function backendsOf(objects: readonly KubeObject[], service: KubeObject, servicePort: string | number | undefined): Array<{ deployment: KubeObject; pods: Endpoint; port: Port }> | string {
  const spec = service.spec as IServiceSpec;
  const port = spec.ports?.find((p) => (typeof servicePort === 'string' ? p.name === servicePort : p.port === servicePort));
  if (!port) return `Service ${service.metadata.name} has no port ${servicePort}`;
  const selected = inNamespaceOf(objects, service, 'Deployment').filter((d) => spec.selector && selectorMatches({ matchLabels: spec.selector }, podsOf(d).labels));
  if (selected.length === 0) return `Service ${service.metadata.name} selects no Deployment's pods`;
  const backends = [];
  for (const deployment of selected) {
    const pods = podsOf(deployment);
    const target = port.targetPort ?? port.port;
    const containerPort = pods.ports?.find((p) => (typeof target === 'string' ? p.name === target : p.containerPort === target));
    if (!containerPort) return `Service ${service.metadata.name} port ${servicePort} targets ${target}, which the pods of Deployment ${deployment.metadata.name} do not declare`;
    backends.push({ deployment, pods, port: { number: containerPort.containerPort, name: containerPort.name, protocol: containerPort.protocol ?? 'TCP' } });
  }
  return backends;
}

interface Route {
  ingress: KubeObject;
  service: string;
  port: string | number | undefined;
}

/** Where a request for host and path goes: the longest matching path, Exact before Prefix (as the Ingress API says). */
function routeOf(objects: readonly KubeObject[], host: string, path: string): Route | undefined {
  const matches: Array<Route & { length: number; exact: boolean }> = [];
  for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
    for (const rule of (ingress.spec as IIngressSpec).rules ?? []) {
      if (rule.host !== undefined && rule.host !== host) continue;
      for (const candidate of rule.http?.paths ?? []) {
        const prefix = (candidate.path ?? '/').replace(/(.)\/$/, '$1');
        const exact = candidate.pathType === 'Exact';
        const hit = exact ? path === candidate.path : prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
        const backend = candidate.backend.service;
        if (hit) matches.push({ ingress, service: backend?.name ?? '<no Service>', port: backend?.port?.name ?? backend?.port?.number, length: prefix.length, exact });
      }
    }
  }
  return matches.sort((a, b) => b.length - a.length || Number(b.exact) - Number(a.exact))[0];
}

function checkIngresses(objects: readonly KubeObject[], say: Say): void {
  const routed = new Set<KubeObject>();
  for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
    const spec = (ingress.spec ?? {}) as IIngressSpec;
    const report = (message: string): void => say(ingress, 'ingress', message);
    if (!spec.ingressClassName) report('has no ingressClassName: which controller serves it would be up to the cluster default');
    if (spec.defaultBackend) report('has a defaultBackend: every path not listed would reach it, /metrics and /health included');
    for (const rule of spec.rules ?? []) {
      if (!rule.host) {
        report('has a rule without a host: it would answer for any name pointed at the controller');
        continue;
      }
      if (!spec.tls?.some((tls) => tls.secretName && tls.hosts?.includes(rule.host!))) report(`serves ${rule.host} without TLS (spec.tls with a secretName for that host)`);
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend.service;
        const service = backend && inNamespaceOf(objects, ingress, 'Service').find((s) => s.metadata.name === backend.name);
        if (!backend || !service) {
          report(`routes ${path.path} to ${backend ? `Service ${backend.name}, which is not among the manifests` : 'no Service'}`);
          continue;
        }
        const backends = backendsOf(objects, service, backend.port?.name ?? backend.port?.number);
        if (typeof backends === 'string') {
          report(`routes ${path.path}, but ${backends}`);
          continue;
        }
        for (const { deployment, pods, port } of backends) {
          routed.add(deployment);
          if (!networkAllows(objects, INGRESS_CONTROLLER, pods, port)) {
            report(`routes ${path.path} to Deployment ${deployment.metadata.name}, whose NetworkPolicies do not let the ingress controller (namespace ${INGRESS_CONTROLLER.namespace}) reach port ${port.name ?? port.number}`);
          }
        }
      }
      for (const internal of PLATFORM_ROUTES) {
        if (routeOf([ingress], rule.host, internal)) report(`exposes ${internal} on ${rule.host}: list the public paths only`);
      }
    }
  }
  for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
    const pods = podsOf(deployment);
    const admits = (pods.ports ?? []).some((p) => networkAllows(objects, INGRESS_CONTROLLER, pods, { number: p.containerPort, name: p.name, protocol: p.protocol ?? 'TCP' }));
    if (admits && !routed.has(deployment)) say(deployment, 'ingress', 'its NetworkPolicy lets the ingress controller in, but no Ingress routes to it: remove that rule or add the route');
  }
}

/** In-cluster http(s) URLs in a server's environment must be reachable through the NetworkPolicies. */
function checkNetworkPaths(objects: readonly KubeObject[], secrets: DocumentedSecrets, say: Say): void {
  for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
    const container = (deployment.spec as { template: { spec: IPodSpec } }).template.spec.containers[0];
    const { env, fromSecrets } = resolveEnv(container, deployment, objects, secrets);
    const namespace = deployment.metadata.namespace ?? '';
    for (const [variable, value] of Object.entries(env)) {
      if (fromSecrets.has(variable) || !/^https?:\/\//.test(value)) continue;
      const url = new URL(value);
      const service = inNamespaceOf(objects, deployment, 'Service').find((s) =>
        [s.metadata.name, `${s.metadata.name}.${namespace}`, `${s.metadata.name}.${namespace}.svc`, `${s.metadata.name}.${namespace}.svc.cluster.local`].includes(url.hostname),
      );
      if (!service) {
        if (!url.hostname.includes('.') && url.hostname !== 'localhost') say(deployment, 'network', `${variable} names host ${url.hostname}, which is no Service in namespace ${namespace}`);
        continue;
      }
      const backends = backendsOf(objects, service, Number(url.port || (url.protocol === 'https:' ? 443 : 80)));
      if (typeof backends === 'string') {
        say(deployment, 'network', `${variable}=${value}, but ${backends}`);
        continue;
      }
      for (const { deployment: callee, pods, port } of backends) {
        if (!networkAllows(objects, podsOf(deployment), pods, port)) {
          say(deployment, 'network', `${variable} calls Service ${service.metadata.name}, but the NetworkPolicies do not let these pods reach Deployment ${callee.metadata.name}'s port ${port.name ?? port.number} (egress here, ingress there)`);
        }
      }
    }
  }
}

/** Every wiring rule over the rendered objects. */
function checkWiring(objects: readonly KubeObject[], secrets: DocumentedSecrets = DOCUMENTED_SECRETS): Finding[] {
  const findings: Finding[] = [];
  const say: Say = (object, rule, message) => findings.push({ object: describeObject(object), rule, message });
  const loaded = checkConfigEnv(objects, secrets, say);
  checkConfigFiles(objects, loaded, say);
  checkExternalReferences(objects, secrets, say);
  checkIngresses(objects, say);
  checkNetworkPaths(objects, secrets, say);
  return findings;
}

it('deploy/k8s/overlays holds exactly the overlays this test knows', () => {
  expect(overlayNames()).toEqual(Object.keys(ENVIRONMENTS).sort());
});

it('says clearly when kubectl is missing', () => {
  const previous = process.env.KUBECTL;
  process.env.KUBECTL = '/nonexistent/kubectl';
  try {
    expect(() => renderOverlay('dev')).toThrow(/\/nonexistent\/kubectl was not found: .*Install kubectl/);
  } finally {
    if (previous === undefined) delete process.env.KUBECTL;
    else process.env.KUBECTL = previous;
  }
});

/** Requests the public host must route, with the service that answers them (read from the controllers). */
const PUBLIC_ROUTES: ReadonlyArray<[path: string, service: string]> = [
  ['/v1/payments', 'payment-orchestration'],
  ['/v1/payments/pay_123', 'payment-orchestration'],
  ['/v1/payments/pay_123/refunds', 'payment-orchestration'],
  ['/v1/webhooks/stripe', 'payment-orchestration'],
  ['/v1/wallets/person-1', 'wallet'],
  ['/v1/wallets/person-1/payment-methods/cards', 'wallet'],
  ['/v1/wallets/person-1/step-up/pin', 'wallet'],
  ['/v1/wallets/person-1/apps/whatsapp', 'wallet'],
  ['/v1/rollout', 'wallet'],
  ['/v1/history/persons/person-1/entries/export', 'history-projection'],
  ['/v1/history/merchants/m-1/summary', 'history-projection'],
  ['/v1/history/non-profits/np-unicef/entries', 'history-projection'],
  ['/v1/history/entries', 'history-projection'],
  ['/v1/history/aggregates/export', 'history-projection'],
  ['/v1/ad-signals/aggregates', 'ad-signal-aggregation'],
];

/** Requests the public host must not route: probes, metrics, docs, keys, and operator or service-only APIs. */
const INTERNAL_ROUTES: readonly string[] = [
  ...PLATFORM_ROUTES,
  '/',
  '/v1/ledger/transactions',
  '/v1/ledger/accounts/acc-1/balance',
  '/v1/ledger/reservations/r-1/post',
  '/v1/rollout/reload',
  '/v1/history/read-model',
  '/v1/webhooks/paypal',
  '/v1/paymentsx',
];

describe.each(Object.keys(ENVIRONMENTS))('overlay %s', (overlay) => {
  const { namespace, production, host } = ENVIRONMENTS[overlay];
  let objects: KubeObject[];

  beforeAll(() => {
    objects = objectsOf(overlay);
  });

  it('renders objects that are valid against the Kubernetes API schemas', () => {
    expect(validateSchemas(objects).map(formatFinding)).toEqual([]);
  });

  it('follows every rule of deploy/test/manifest-rules.ts', () => {
    expect(checkManifests(objects, contextOf(overlay)).map(formatFinding)).toEqual([]);
  });

  it(`puts every namespaced object in ${namespace}, a namespace with Pod Security "restricted"`, () => {
    const outside = objects.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== namespace);
    expect(outside.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([]);
    expect(get(objects, 'Namespace', namespace).metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  it('runs one Deployment per service, each with its Service, HPA, PDB, NetworkPolicy and migration Job', () => {
    const deployments = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
    expect(deployments.sort()).toEqual([...SERVICES].sort());
    for (const service of SERVICES) {
      for (const kind of ['Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy', 'ServiceAccount']) get(objects, kind, service);
      get(objects, 'Job', `${service}-migrate`);
    }
  });

  it.each(SERVICES)('scales %s no further than the partitions of the topics it consumes (from libs/contracts)', (service) => {
    const spec = get(objects, 'HorizontalPodAutoscaler', service).spec as { minReplicas: number; maxReplicas: number };
    expect(spec.maxReplicas).toBeLessThanOrEqual(partitionCeiling(service));
    expect(spec.minReplicas).toBeGreaterThanOrEqual(production ? 3 : 1);
  });

  it('declares every topic of libs/contracts, dead-letter topics included, with its partitions', () => {
    const declared = objects
      .filter((o) => o.kind === 'KafkaTopic')
      .map((o) => ({ name: o.metadata.name, partitions: (o.spec as { partitions: number }).partitions }));
    expect(declared.sort((a, b) => a.name!.localeCompare(b.name!))).toEqual(
      TOPICS.map(({ name, partitions }) => ({ name, partitions })).sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  it('verifies the ledger every night and keeps a projection rebuild ready to start', () => {
    const commandOf = (cronJob: KubeObject): string | undefined =>
      (cronJob.spec as { jobTemplate: { spec: { template: { spec: IPodSpec } } } }).jobTemplate.spec.template.spec.containers[0]?.command?.join(' ');
    const verify = get(objects, 'CronJob', 'ledger-verify');
    expect(commandOf(verify)).toBe('node dist/tools/ledger/verify.js');
    expect((verify.spec as { suspend?: boolean }).suspend).toBeFalsy();
    const rebuild = get(objects, 'CronJob', 'history-rebuild');
    expect(commandOf(rebuild)).toBe('node dist/tools/history/rebuild.js');
    // Applying the manifests must never start a rebuild.
    expect((rebuild.spec as { suspend?: boolean }).suspend).toBe(true);
  });

  it('contains no Secret: secrets are only referenced by name', () => {
    expect(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).toEqual([]);
  });

  it('gives each service its own database Secret, and its own schema', () => {
    for (const service of SERVICES) {
      const deployment = get(objects, 'Deployment', service);
      const env = effectiveEnv(podSpec(deployment).containers[0], deployment, objects);
      expect(env.get('DATABASE_URL')).toBe(`secret:${service}-database/DATABASE_URL`);
      expect(env.get('DB_SCHEMA')).toBe(service.replace(/-/g, '_'));
    }
  });

  it('follows every wiring rule: configuration, files, Secrets, Ingress and network paths', () => {
    expect(checkWiring(objects).map(formatFinding)).toEqual([]);
  });

  it(`routes the public API on ${host}, over TLS from pay-api-tls, and nothing internal`, () => {
    const routed = (path: string): { path: string; service?: string } => ({ path, service: routeOf(objects, host, path)?.service });
    expect(PUBLIC_ROUTES.map(([path]) => routed(path))).toEqual(PUBLIC_ROUTES.map(([path, service]) => ({ path, service })));
    expect(INTERNAL_ROUTES.map(routed)).toEqual(INTERNAL_ROUTES.map((path) => ({ path, service: undefined })));
    for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
      expect({ name: ingress.metadata.name, ...(ingress.spec as IIngressSpec) }).toMatchObject({ ingressClassName: 'nginx', tls: [{ hosts: [host], secretName: 'pay-api-tls' }] });
    }
  });

  it('lets payment-orchestration alone reach the internet, on 443 only, and no private or metadata address', () => {
    const pods = (service: string): Endpoint => podsOf(get(objects, 'Deployment', service));
    const https: Port = { number: 443, protocol: 'TCP' };
    const publicAddress: Endpoint = { ip: '52.36.167.221' };
    expect(networkAllows(objects, pods('payment-orchestration'), publicAddress, https)).toBe(true);
    expect(networkAllows(objects, pods('payment-orchestration'), publicAddress, { number: 80, protocol: 'TCP' })).toBe(false);
    for (const ip of ['10.12.0.7', '172.20.1.1', '192.168.1.1', '169.254.169.254', '100.64.0.1']) {
      expect({ ip, allowed: networkAllows(objects, pods('payment-orchestration'), { ip }, https) }).toEqual({ ip, allowed: false });
    }
    for (const service of SERVICES.filter((name) => name !== 'payment-orchestration')) {
      expect({ service, allowed: networkAllows(objects, pods(service), publicAddress, https) }).toEqual({ service, allowed: false });
    }
  });

  it('makes the rollout and non-profits ConfigMaps of config/, the files npm start and the image read: no copy to drift', () => {
    const configFile = (name: string): string => readFileSync(resolve(ROOT, 'config', name), 'utf8');
    const nonProfits = objects.find((o) => o.kind === 'ConfigMap' && /^payment-orchestration-non-profits-[a-z0-9]{10}$/.test(o.metadata.name ?? ''));
    expect(get(objects, 'ConfigMap', 'rollout').data).toEqual({ 'rollout.json': configFile('rollout.json') });
    expect(nonProfits?.data).toEqual({ 'non-profits.json': configFile('non-profits.json') });
    const copies = readdirSync(resolve(ROOT, 'deploy'), { recursive: true, encoding: 'utf8' }).filter((path) => ['rollout.json', 'non-profits.json'].includes(basename(path)));
    expect(copies).toEqual([]);
  });

  it('mounts one rollout ConfigMap, without a hash in its name, into the wallet and payment-orchestration', () => {
    // A stable name: kubectl apply updates it in place and the services reload it without a restart.
    get(objects, 'ConfigMap', 'rollout');
    for (const service of ['wallet', 'payment-orchestration']) {
      const pod = podSpec(get(objects, 'Deployment', service));
      expect(pod.volumes).toContainEqual({ name: 'rollout', configMap: { name: 'rollout' } });
      expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'rollout', mountPath: '/etc/pay/rollout', readOnly: true });
    }
  });

  if (production) {
    it('keeps at least two pods of each service through voluntary disruptions', () => {
      for (const service of SERVICES) {
        expect(get(objects, 'PodDisruptionBudget', service).spec).toMatchObject({ minAvailable: 2 });
      }
    });

    it('replicates every Kafka topic three times and acknowledges writes on two', () => {
      for (const topic of objects.filter((o) => o.kind === 'KafkaTopic')) {
        expect({ name: topic.metadata.name, ...(topic.spec as object) }).toMatchObject({ replicas: 3, config: { 'min.insync.replicas': 2 } });
      }
    });
  }
});

describe('docs/deploy.md', () => {
  it('names in the "read by" column of its Secrets table every workload that reads each key, and no other', () => {
    const readers = new Map<string, Set<string>>();
    const add = (secret: string | undefined, key: string, reader: string): void => {
      readers.set(`${secret}/${key}`, new Set([...(readers.get(`${secret}/${key}`) ?? []), reader]));
    };
    for (const overlay of Object.keys(ENVIRONMENTS)) {
      for (const { owner, template } of workloads(objectsOf(overlay))) {
        const reader = owner.kind === 'Deployment' ? owner.metadata.name! : `\`${owner.metadata.name}\``;
        for (const container of [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])]) {
          for (const variable of container.env ?? []) {
            const ref = variable.valueFrom?.secretKeyRef;
            if (ref) add(ref.name, ref.key, reader);
          }
          for (const source of container.envFrom ?? []) {
            if (source.secretRef) for (const key of DOCUMENTED_SECRETS.get(source.secretRef.name ?? '') ?? []) add(source.secretRef.name, key, reader);
          }
        }
        for (const volume of template.spec?.volumes ?? []) {
          const keys = volume.secret?.items?.map((item) => item.key) ?? [...(DOCUMENTED_SECRETS.get(volume.secret?.secretName ?? '') ?? [])];
          if (volume.secret) for (const key of keys) add(volume.secret.secretName, key, reader);
        }
      }
    }
    const sorted = (map: Map<string, Set<string>>): Record<string, string[]> =>
      Object.fromEntries([...map].filter(([, names]) => names.size > 0).map(([secretKey, names]) => [secretKey, [...names].sort()]));
    expect(readers.size).toBeGreaterThan(0);
    expect(sorted(documentedReaders(DEPLOY_MD, SERVICES))).toEqual(sorted(readers));
  });

  it('lists in its Secrets table every Secret and key the manifests reference, and no other', () => {
    const references = new Map<string, Set<string>>();
    const add = (name: string | undefined, key?: string): void => {
      const keys = references.get(name ?? '') ?? new Set<string>();
      if (key !== undefined) keys.add(key);
      references.set(name ?? '', keys);
    };
    for (const overlay of Object.keys(ENVIRONMENTS)) {
      const objects = objectsOf(overlay);
      for (const { template } of workloads(objects)) {
        for (const container of template.spec?.containers ?? []) {
          for (const variable of container.env ?? []) {
            const ref = variable.valueFrom?.secretKeyRef;
            if (ref) add(ref.name, ref.key);
          }
          for (const source of container.envFrom ?? []) if (source.secretRef) add(source.secretRef.name);
        }
        for (const volume of template.spec?.volumes ?? []) if (volume.secret) add(volume.secret.secretName);
      }
      // The Ingress API reads a TLS Secret's tls.crt and tls.key.
      for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
        for (const tls of (ingress.spec as IIngressSpec).tls ?? []) ['tls.crt', 'tls.key'].forEach((key) => add(tls.secretName, key));
      }
    }
    expect(references.size).toBeGreaterThan(0);
    const listed = Object.fromEntries([...DOCUMENTED_SECRETS].map(([name, keys]) => [name, [...keys].sort()]));
    const referenced = Object.fromEntries([...references].map(([name, keys]) => [name, [...keys].sort()]));
    expect(listed).toEqual(referenced);
  });
});

/**
 * The test of the test: take the rendered objects, break one Deployment in one way, and the
 * rule checker must report that Deployment, under the right rule, and nothing else.
 */
describe('the rule checker', () => {
  const overlay = 'prod';
  const namespace = ENVIRONMENTS[overlay].namespace;
  const context = contextOf(overlay);

  /** What to break in the Deployment's pod, and the rule that must report it. */
  type Breakage = [description: string, rule: string, breakIt: (pod: IPodSpec, container: IContainer) => void];
  const breakages: Breakage[] = [
    ['startupProbe removed', 'probes', (_pod, container) => delete container.startupProbe],
    ['livenessProbe removed', 'probes', (_pod, container) => delete container.livenessProbe],
    ['readinessProbe removed', 'probes', (_pod, container) => delete container.readinessProbe],
    ['liveness probe pointed at /health/ready', 'probes', (_pod, container) => (container.livenessProbe!.httpGet!.path = '/health/ready')],
    ['resource limits removed', 'resources', (_pod, container) => delete container.resources!.limits],
    ['resource requests removed', 'resources', (_pod, container) => delete container.resources!.requests],
    ['container securityContext removed', 'security', (_pod, container) => delete container.securityContext],
    ['pod securityContext removed', 'security', (pod) => delete pod.securityContext],
    ['allowPrivilegeEscalation set to true', 'security', (_pod, container) => (container.securityContext!.allowPrivilegeEscalation = true)],
    ['capabilities no longer dropped', 'security', (_pod, container) => delete container.securityContext!.capabilities],
    ['root file system writable', 'security', (_pod, container) => (container.securityContext!.readOnlyRootFilesystem = false)],
    ['/tmp volume removed', 'writable-tmp', (pod, container) => {
      container.volumeMounts = [];
      pod.volumes = [];
    }],
    ['image tag latest', 'image', (_pod, container) => (container.image = container.image!.replace(/:[^:/]+$/, ':latest'))],
    ['image without a tag', 'image', (_pod, container) => (container.image = container.image!.replace(/:[^:/]+$/, ''))],
    ['literal STRIPE_SECRET_KEY', 'inline-secret', (_pod, container) => container.env!.push({ name: 'STRIPE_SECRET_KEY', value: 'sk_live_x' })],
    ['literal DATABASE_URL with a password', 'inline-secret', (_pod, container) => {
      container.env = container.env!.filter((variable) => variable.name !== 'DATABASE_URL');
      container.env.push({ name: 'DATABASE_URL', value: 'postgres://wallet:hunter2@db:5432/payments' });
    }],
    ['grace period of 10 s', 'shutdown', (pod) => (pod.terminationGracePeriodSeconds = 10)],
    ['HOST set to 127.0.0.1', 'config', (_pod, container) => container.env!.push({ name: 'HOST', value: '127.0.0.1' })],
  ];

  describe.each(SERVICES)('Deployment %s', (service) => {
    const subject = `Deployment ${namespace}/${service}`;

    // Three parameters, as many as each row has: Jest would take a fourth for a `done` callback.
    it.each(breakages)('%s: reported under %s, naming the Deployment', (_description, rule, breakIt) => {
      const objects = objectsOf(overlay);
      const pod = podSpec(get(objects, 'Deployment', service));
      breakIt(pod, pod.containers[0]);
      const findings = checkManifests(objects, context);
      expect(findings).toContainEqual(expect.objectContaining<Partial<Finding>>({ object: subject, rule }));
      // Another image in the Deployment than in its migration Job is the Job's finding too.
      const allowed = rule === 'image' ? [subject, `Job ${namespace}/${service}-migrate`] : [subject];
      expect(findings.filter((finding) => !allowed.includes(finding.object)).map(formatFinding)).toEqual([]);
    });

    it.each(['Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy'])('its %s removed: reported as a missing companion', (kind) => {
      const objects = objectsOf(overlay).filter((o) => !(o.kind === kind && o.metadata.name === service));
      expect(checkManifests(objects, context)).toContainEqual({ object: subject, rule: 'companions', message: expect.stringContaining(kind) });
    });

    it('its migration Job removed: reported', () => {
      const objects = objectsOf(overlay).filter((o) => !(o.kind === 'Job' && o.metadata.name === `${service}-migrate`));
      expect(checkManifests(objects, context)).toContainEqual(expect.objectContaining({ object: subject, rule: 'migration' }));
    });

    it(`its HPA above ${partitionCeiling(service)} replicas (the partitions of its smallest consumed topic): reported`, () => {
      const objects = objectsOf(overlay);
      (get(objects, 'HorizontalPodAutoscaler', service).spec as { maxReplicas: number }).maxReplicas = partitionCeiling(service) + 1;
      expect(checkManifests(objects, context)).toContainEqual(
        expect.objectContaining({ object: `HorizontalPodAutoscaler ${namespace}/${service}`, rule: 'autoscaling' }),
      );
    });
  });

  it('reports a Secret that carries data', () => {
    const objects = objectsOf(overlay);
    objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wallet-database', namespace }, stringData: { DATABASE_URL: 'postgres://x' } });
    expect(checkManifests(objects, context)).toContainEqual(expect.objectContaining({ object: `Secret ${namespace}/wallet-database`, rule: 'inline-secret' }));
  });

  it('reports a Job that runs latest, as root, without limits', () => {
    const objects = objectsOf(overlay);
    const job = get(objects, 'Job', 'wallet-migrate');
    const container = podSpec(job).containers[0];
    container.image = 'ghcr.io/pay-platform/wallet:latest';
    delete container.resources!.limits;
    container.securityContext!.runAsUser = 0;
    const rules = checkManifests(objects, context)
      .filter((finding) => finding.object === `Job ${namespace}/wallet-migrate`)
      .map((finding) => finding.rule);
    expect(rules).toEqual(expect.arrayContaining(['image', 'resources', 'security']));
  });

  it('reports production Kafka topics with fewer replicas, and topics that drift from libs/contracts', () => {
    const objects = objectsOf(overlay);
    const events = get(objects, 'KafkaTopic', 'payments.events.v1').spec as { replicas: number; partitions: number; config: Record<string, unknown> };
    events.replicas = 1;
    events.config['min.insync.replicas'] = 1;
    events.partitions = 24;
    const withoutDlq = objects.filter((o) => o.metadata.name !== 'wallet.events.v1.dlq');
    const messages = checkManifests(withoutDlq, context).filter((f) => f.rule === 'kafka-topics').map(formatFinding);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^KafkaTopic wallet\.events\.v1\.dlq \[kafka-topics\]: missing/),
        expect.stringMatching(/payments\.events\.v1 .*24 partitions; libs\/contracts says 12/),
        expect.stringMatching(/payments\.events\.v1 .*1 replicas; production needs 3/),
        expect.stringMatching(/payments\.events\.v1 .*min\.insync\.replicas 1; production needs 2/),
      ]),
    );
  });

  it('reports a PodDisruptionBudget that would block every node drain', () => {
    const objects = objectsOf(overlay);
    (get(objects, 'PodDisruptionBudget', 'wallet').spec as { minAvailable: number }).minAvailable = 3;
    expect(checkManifests(objects, context)).toContainEqual(expect.objectContaining({ object: `PodDisruptionBudget ${namespace}/wallet`, rule: 'autoscaling' }));
  });

  it('reports a namespace without a default-deny NetworkPolicy', () => {
    const objects = objectsOf(overlay).filter((o) => o.metadata.name !== 'default-deny');
    expect(checkManifests(objects, context)).toContainEqual(expect.objectContaining({ object: `Namespace ${namespace}`, rule: 'companions' }));
  });
});

describe('the schema validation', () => {
  const namespace = ENVIRONMENTS.prod.namespace;

  it('reports a field of the wrong type, and a KafkaTopic without partitions', () => {
    const objects = objectsOf('prod');
    podSpec(get(objects, 'Deployment', 'wallet')).containers[0].resources!.limits!.cpu = 'lots';
    delete (get(objects, 'KafkaTopic', 'wallet.events.v1').spec as { partitions?: number }).partitions;
    const findings = validateSchemas(objects).map(formatFinding);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^Deployment ${namespace}/wallet \\[schema\\]: /spec/template/spec/containers/0/resources/limits/cpu`)),
        `KafkaTopic ${namespace}/wallet.events.v1 [schema]: /spec/partitions must be an integer of at least 1`,
      ]),
    );
  });

  it('reports a kind it has no schema for, and an object without a namespace', () => {
    const objects: KubeObject[] = [
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_A_Name' } },
    ];
    expect(validateSchemas(objects).map(formatFinding)).toEqual([
      `Widget ${namespace}/w [schema]: no schema for example.com/v1 Widget: kubernetes-models has no class for it and deploy/test/kube-schema.ts no validator`,
      'ConfigMap Not_A_Name [schema]: /metadata/name "Not_A_Name" must be a DNS subdomain of at most 253 characters',
      'ConfigMap Not_A_Name [schema]: /metadata/namespace is missing (the overlay sets it)',
    ]);
  });
});

/**
 * The test of the wiring rules: break the render in one way, and the rules must report exactly
 * the objects named, under the rule named, and nothing else.
 */
describe('the wiring rules', () => {
  const overlay = 'prod';
  const namespace = ENVIRONMENTS[overlay].namespace;

  const podOf = (objects: KubeObject[], kind: string, name: string): IPodSpec => {
    const spec = get(objects, kind, name).spec as { template?: { spec: IPodSpec }; jobTemplate?: { spec: { template: { spec: IPodSpec } } } };
    return (spec.template ?? spec.jobTemplate!.spec.template).spec;
  };
  const containerOf = (objects: KubeObject[], kind: string, name: string): IContainer => podOf(objects, kind, name).containers[0];
  const withoutEnv = (container: IContainer, name: string): void => {
    container.env = container.env!.filter((variable) => variable.name !== name);
  };
  const envOf = (container: IContainer, name: string): NonNullable<IContainer['env']>[number] => container.env!.find((variable) => variable.name === name)!;
  /** A generated ConfigMap, whatever its content hash. */
  const configMapData = (objects: KubeObject[], name: string): Record<string, string> =>
    objects.find((o) => o.kind === 'ConfigMap' && new RegExp(`^${name}(-[a-z0-9]{10})?$`).test(o.metadata.name ?? ''))!.data as Record<string, string>;
  const ingressOf = (objects: KubeObject[], name: string): IIngressSpec => get(objects, 'Ingress', name).spec as IIngressSpec;
  const policyOf = (objects: KubeObject[], name: string): INetworkPolicySpec => get(objects, 'NetworkPolicy', name).spec as INetworkPolicySpec;
  const admitsPods = (service: string) => (rule: { from?: INetworkPolicyPeer[]; to?: INetworkPolicyPeer[] }): boolean =>
    !!(rule.from ?? rule.to)?.some((peer) => !peer.namespaceSelector && peer.podSelector?.matchLabels?.[SERVICE_LABEL] === service);

  const SERVERS = SERVICES.map((service) => `Deployment ${service}`);
  const fromSecret = (name: string, secret: string): NonNullable<IContainer['env']>[number] => ({ name, valueFrom: { secretKeyRef: { name: secret, key: name } } });

  interface Breakage {
    description: string;
    rule: string;
    /** `Kind name`: each must be reported under the rule, and no other object at all. */
    reported: string[];
    breakIt: (objects: KubeObject[]) => KubeObject[] | void;
  }
  const breakages: Breakage[] = [
    {
      description: 'the wallet without WALLET_MASTER_KEYS (the development key ring)',
      rule: 'config-env',
      reported: ['Deployment wallet'],
      breakIt: (objects) => withoutEnv(containerOf(objects, 'Deployment', 'wallet'), 'WALLET_MASTER_KEYS'),
    },
    {
      description: 'wallet-migrate given STEP_UP_SIGNING_JWK, which tools/migrate.ts never reads',
      rule: 'config-env',
      reported: ['Job wallet-migrate'],
      breakIt: (objects) => void containerOf(objects, 'Job', 'wallet-migrate').env!.push(fromSecret('STEP_UP_SIGNING_JWK', 'wallet-step-up-key')),
    },
    {
      description: 'history-rebuild given every key of pay-auth-jwks (envFrom), which tools/history/rebuild.ts never reads',
      rule: 'config-env',
      reported: ['CronJob history-rebuild'],
      breakIt: (objects) => void containerOf(objects, 'CronJob', 'history-rebuild').envFrom!.push({ secretRef: { name: 'pay-auth-jwks' } }),
    },
    {
      description: 'wallet-migrate without DATABASE_URL (it would migrate 127.0.0.1)',
      rule: 'config-env',
      reported: ['Job wallet-migrate'],
      breakIt: (objects) => withoutEnv(containerOf(objects, 'Job', 'wallet-migrate'), 'DATABASE_URL'),
    },
    {
      description: 'history-rebuild with a DB_SCHEMA that is no schema name',
      rule: 'config-env',
      reported: ['CronJob history-rebuild'],
      breakIt: (objects) => void containerOf(objects, 'CronJob', 'history-rebuild').env!.push({ name: 'DB_SCHEMA', value: 'History-Projection' }),
    },
    {
      description: 'payment-orchestration-migrate for a service that does not exist',
      rule: 'config-env',
      reported: ['Job payment-orchestration-migrate'],
      breakIt: (objects) => void (envOf(containerOf(objects, 'Job', 'payment-orchestration-migrate'), 'SERVICE').value = 'payments'),
    },
    {
      description: 'ad-signal-aggregation without its noise key',
      rule: 'config-env',
      reported: ['Deployment ad-signal-aggregation'],
      breakIt: (objects) => withoutEnv(containerOf(objects, 'Deployment', 'ad-signal-aggregation'), 'AD_SIGNALS_DP_NOISE_KEY'),
    },
    {
      // The Jobs' tools read no NODE_ENV.
      description: 'NODE_ENV=development in platform-config',
      rule: 'config-env',
      reported: SERVERS,
      breakIt: (objects) => void (configMapData(objects, 'platform-config').NODE_ENV = 'development'),
    },
    {
      description: 'WALLET_URL left to its default, 127.0.0.1',
      rule: 'config-env',
      reported: ['Deployment payment-orchestration'],
      breakIt: (objects) => void delete configMapData(objects, 'payment-orchestration-config').WALLET_URL,
    },
    {
      description: 'payment-orchestration without STRIPE_SECRET_KEY (the simulator, not deployed)',
      rule: 'config-env',
      reported: ['Deployment payment-orchestration'],
      breakIt: (objects) => withoutEnv(containerOf(objects, 'Deployment', 'payment-orchestration'), 'STRIPE_SECRET_KEY'),
    },
    {
      description: 'payment-orchestration expecting another step-up issuer than the wallet',
      rule: 'config-env',
      reported: ['Deployment wallet', 'Deployment payment-orchestration'],
      breakIt: (objects) => void (configMapData(objects, 'payment-orchestration-config').STEP_UP_ISSUER = 'pay:orchestration'),
    },
    {
      description: 'a Job running a tool the test does not know',
      rule: 'config-env',
      reported: ['Job wallet-migrate'],
      breakIt: (objects) => void (containerOf(objects, 'Job', 'wallet-migrate').command = ['node', 'dist/tools/other.js']),
    },
    {
      description: 'rollout.json with a misspelt key',
      rule: 'config-files',
      reported: ['Deployment wallet', 'Deployment payment-orchestration'],
      breakIt: (objects) => {
        const data = get(objects, 'ConfigMap', 'rollout').data as Record<string, string>;
        data['rollout.json'] = data['rollout.json'].replace('"countries"', '"contries"');
      },
    },
    {
      description: 'non-profits.json listing an organisation twice',
      rule: 'config-files',
      reported: ['Deployment payment-orchestration'],
      breakIt: (objects) => {
        const data = configMapData(objects, 'payment-orchestration-non-profits');
        const registry = JSON.parse(data['non-profits.json']) as { nonProfits: unknown[] };
        registry.nonProfits.push(registry.nonProfits[0]);
        data['non-profits.json'] = JSON.stringify(registry);
      },
    },
    {
      description: 'the wallet without the rollout volume',
      rule: 'config-files',
      reported: ['Deployment wallet'],
      breakIt: (objects) => {
        const pod = podOf(objects, 'Deployment', 'wallet');
        pod.volumes = pod.volumes!.filter((volume) => volume.name !== 'rollout');
        pod.containers[0].volumeMounts = pod.containers[0].volumeMounts!.filter((mount) => mount.name !== 'rollout');
      },
    },
    {
      description: 'the rollout mounted by subPath',
      rule: 'config-files',
      reported: ['Deployment wallet'],
      breakIt: (objects) => {
        const mount = containerOf(objects, 'Deployment', 'wallet').volumeMounts!.find((m) => m.name === 'rollout')!;
        Object.assign(mount, { mountPath: '/etc/pay/rollout/rollout.json', subPath: 'rollout.json' });
      },
    },
    {
      description: 'ROLLOUT_CONFIG_PATH left to the copy in the image',
      rule: 'config-files',
      reported: ['Deployment wallet'],
      breakIt: (objects) => void delete configMapData(objects, 'wallet-config').ROLLOUT_CONFIG_PATH,
    },
    {
      description: 'the wallet reading the rollout from a ConfigMap of its own',
      rule: 'config-files',
      reported: ['Deployment wallet', 'Deployment payment-orchestration'],
      breakIt: (objects) => {
        objects.push({ ...structuredClone(get(objects, 'ConfigMap', 'rollout')), metadata: { name: 'wallet-rollout', namespace } });
        podOf(objects, 'Deployment', 'wallet').volumes!.find((volume) => volume.name === 'rollout')!.configMap!.name = 'wallet-rollout';
      },
    },
    {
      description: 'a key of a Secret docs/deploy.md does not list',
      rule: 'references',
      reported: ['Deployment wallet'],
      breakIt: (objects) => void (envOf(containerOf(objects, 'Deployment', 'wallet'), 'WALLET_MASTER_KEYS').valueFrom!.secretKeyRef!.name = 'wallet-keys'),
    },
    {
      description: 'a key docs/deploy.md does not list for its Secret',
      rule: 'references',
      reported: ['Deployment payment-orchestration'],
      breakIt: (objects) => void (envOf(containerOf(objects, 'Deployment', 'payment-orchestration'), 'STRIPE_SECRET_KEY').valueFrom!.secretKeyRef!.key = 'STRIPE_API_KEY'),
    },
    {
      description: 'a volume from a ConfigMap that is not rendered',
      rule: 'references',
      reported: ['Deployment payment-orchestration'],
      breakIt: (objects) => {
        podOf(objects, 'Deployment', 'payment-orchestration').volumes!.find((volume) => volume.name === 'non-profits')!.configMap!.name = 'non-profits';
      },
    },
    {
      description: 'TLS from a Secret docs/deploy.md does not list',
      rule: 'references',
      reported: ['Ingress wallet'],
      breakIt: (objects) => void (ingressOf(objects, 'wallet').tls![0].secretName = 'wallet-tls'),
    },
    {
      description: 'an Ingress without ingressClassName',
      rule: 'ingress',
      reported: ['Ingress wallet'],
      breakIt: (objects) => void delete ingressOf(objects, 'wallet').ingressClassName,
    },
    {
      description: 'an Ingress without TLS',
      rule: 'ingress',
      reported: ['Ingress payment-orchestration'],
      breakIt: (objects) => void delete ingressOf(objects, 'payment-orchestration').tls,
    },
    {
      description: 'a route to a Service that does not exist',
      rule: 'ingress',
      reported: ['Ingress wallet'],
      breakIt: (objects) => void (ingressOf(objects, 'wallet').rules![0].http!.paths[0].backend.service!.name = 'wallets'),
    },
    {
      description: 'a route to a port the Service lacks',
      rule: 'ingress',
      reported: ['Ingress history-projection'],
      breakIt: (objects) => void (ingressOf(objects, 'history-projection').rules![0].http!.paths[0].backend.service!.port = { name: 'https' }),
    },
    {
      description: 'a catch-all path, which exposes /metrics, /health and /docs',
      rule: 'ingress',
      reported: ['Ingress history-projection'],
      breakIt: (objects) => {
        const paths = ingressOf(objects, 'history-projection').rules![0].http!.paths;
        paths.push({ ...structuredClone(paths[0]), path: '/', pathType: 'Prefix' });
      },
    },
    {
      description: 'the wallet no longer letting the ingress controller in',
      rule: 'ingress',
      reported: ['Ingress wallet'],
      breakIt: (objects) => {
        for (const rule of policyOf(objects, 'wallet').ingress!) {
          rule.from = rule.from?.filter((peer) => peer.podSelector?.matchLabels?.[SERVICE_LABEL] !== 'ingress-nginx');
        }
      },
    },
    {
      description: "the advertisers' route removed while the controller may still reach ad-signal-aggregation",
      rule: 'ingress',
      reported: ['Deployment ad-signal-aggregation'],
      breakIt: (objects) => objects.filter((o) => !(o.kind === 'Ingress' && o.metadata.name === 'ad-signal-aggregation')),
    },
    {
      description: 'the wallet no longer letting payment-orchestration in',
      rule: 'network',
      reported: ['Deployment payment-orchestration'],
      breakIt: (objects) => {
        const policy = policyOf(objects, 'wallet');
        policy.ingress = policy.ingress!.filter((rule) => !admitsPods('payment-orchestration')(rule));
      },
    },
    {
      description: 'payment-orchestration without egress to the wallet',
      rule: 'network',
      reported: ['Deployment payment-orchestration'],
      breakIt: (objects) => {
        const policy = policyOf(objects, 'payment-orchestration');
        policy.egress = policy.egress!.filter((rule) => !admitsPods('wallet')(rule));
      },
    },
    {
      description: 'WALLET_URL naming no Service',
      rule: 'network',
      reported: ['Deployment payment-orchestration'],
      breakIt: (objects) => void (configMapData(objects, 'payment-orchestration-config').WALLET_URL = 'http://wallet-api'),
    },
  ];

  it.each(breakages)('$description: reported under $rule', ({ rule, reported, breakIt }) => {
    const original = objectsOf(overlay);
    const objects = breakIt(original) ?? original;
    const findings = checkWiring(objects);
    const subjects = reported.map((name) => name.replace(' ', ` ${namespace}/`));
    for (const subject of subjects) expect(findings).toContainEqual(expect.objectContaining<Partial<Finding>>({ object: subject, rule }));
    expect(findings.filter((finding) => !subjects.includes(finding.object)).map(formatFinding)).toEqual([]);
  });

  it('reads who reads each key from the Secrets table of docs/deploy.md', () => {
    const readers = documentedReaders(
      [
        '## Secrets',
        '| Secret | key | read by | value |',
        '|---|---|---|---|',
        '| `a` | `K1` | every service, `a-migrate` | x |',
        '| `a` | `K2`, `K3` | wallet, `ledger-verify` | x |',
        '| `tls` | `tls.crt` | the Ingresses (the controller reads it) | y |',
        '## Apply',
      ].join('\n'),
      ['wallet', 'history-projection'],
    );
    expect(Object.fromEntries([...readers].map(([secretKey, names]) => [secretKey, [...names]]))).toEqual({
      'a/K1': ['wallet', 'history-projection', '`a-migrate`'],
      'a/K2': ['wallet', '`ledger-verify`'],
      'a/K3': ['wallet', '`ledger-verify`'],
      'tls/tls.crt': [],
    });
  });

  it('reads the Secrets table of docs/deploy.md, name by name and key by key', () => {
    const table = documentedSecrets(
      ['# Deploying', '## Secrets', '', '| Secret | key | read by |', '|---|---|---|', '| `a` | `K1` | x |', '| `a` | `K2` | x |', '| `tls` | `tls.crt`, `tls.key` | y |', '## Apply', '| `b` | `K3` | z |'].join('\n'),
    );
    expect(Object.fromEntries([...table].map(([name, keys]) => [name, [...keys]]))).toEqual({ a: ['K1', 'K2'], tls: ['tls.crt', 'tls.key'] });
  });

  it('evaluates CIDRs with their exceptions, as the NetworkPolicy API does', () => {
    expect(cidrContains('0.0.0.0/0', '203.0.113.9')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '10.255.1.2')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(cidrContains('172.16.0.0/12', '172.31.255.255')).toBe(true);
    expect(cidrContains('172.16.0.0/12', '172.32.0.0')).toBe(false);
    expect(cidrContains('::/0', '203.0.113.9')).toBe(false);
    const peer: INetworkPolicyPeer = { ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } };
    expect(peerMatches(peer, namespace, { ip: '169.254.169.254' })).toBe(false);
    expect(peerMatches(peer, namespace, { ip: '8.8.8.8' })).toBe(true);
    expect(peerMatches(peer, namespace, { namespace, labels: {} })).toBe(false);
  });
});
