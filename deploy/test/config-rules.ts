/**
 * Rules for what the services read: their environment and the files it points at. The first two
 * look at the manifests alone; the others run each service's own config class and file parsers
 * on what the manifests give it (Secrets stand in as samples, container-env.ts):
 *
 * - config         a service listens on 0.0.0.0 at its declared port, leaves migrations to the
 *                  Job (DB_MIGRATE_ON_START=false) and takes DATABASE_URL from a Secret (a web
 *                  front end without sessions in PostgreSQL has no database: front-end-rules.ts)
 * - inline-secret  no Secret with data, no secret-looking env var or ConfigMap key with a literal
 *                  value, no URL with a password in a literal
 * - config-env     every server gets a configuration that passes its service's config class
 *                  (CONFIG_CLASSES) under NODE_ENV=production; nothing it reads resolves to a
 *                  loopback address; it has what it needs beyond validation (REQUIRED_IN_CLUSTER);
 *                  settings that services share agree (SHARED_SETTINGS), and the Pay Hub's
 *                  OIDC_ISSUER is their AUTH_ISSUER (MATCHING_SETTINGS). The same for Jobs and
 *                  their tools: job-rules.ts
 * - config-files   every file a server reads (`*_PATH`) is mounted from a ConfigMap, not baked into
 *                  the image, without subPath (never updated), and the service's own parser
 *                  (FILE_PARSERS) accepts the committed content; a shared file (SHARED_FILES) comes
 *                  from one ConfigMap key
 */
import { ConfigError, loadConfig } from '@pay/config';
import { parseRolloutFile } from '@pay/rollout';
import { getMetadataStorage } from 'class-validator';
import { AdSignalAggregationConfig } from '@pay/ad-signal-aggregation/tools';
import { HistoryProjectionConfig } from '@pay/history-projection/tools';
import { NonProfitRegistry, PaymentOrchestrationConfig } from '@pay/payment-orchestration/tools';
import { SupportConfig } from '@pay/support/tools';
import { WalletConfig } from '@pay/wallet/tools';
import { PayHubConfig } from '@pay/pay-hub/tools';
import { CONSUMED_TOPICS } from './consumed-topics';
import { effectiveEnv, resolveEnv } from './container-env';
import type { DocumentedSecrets } from './docs-tables';
import type { Container, Finding, KubeObject, PodSpec, Say } from './kube-objects';
import { dataOf, findingsOf, inNamespaceOf, SERVICE_LABEL, workloadContainers, workloads } from './kube-objects';
import type { WebFrontEnd } from './web-front-ends';

/** The config class each service (and web front end) validates at start-up, by its `app.kubernetes.io/name`. */
export const CONFIG_CLASSES: Readonly<Record<string, new () => object>> = {
  wallet: WalletConfig,
  'payment-orchestration': PaymentOrchestrationConfig,
  'history-projection': HistoryProjectionConfig,
  'ad-signal-aggregation': AdSignalAggregationConfig,
  support: SupportConfig,
  'pay-hub': PayHubConfig,
};

/**
 * What a server needs in a cluster although validation lets it start without: without a Stripe
 * key or PayPal client orchestration talks to the PSP simulator (not deployed), without its token key the wallet
 * refuses its instrument lookups and card payments wait.
 */
export const REQUIRED_IN_CLUSTER: Readonly<Record<string, readonly string[]>> = {
  'payment-orchestration': [
    'STRIPE_SECRET_KEY',
    'STRIPE_WEBHOOK_SECRET',
    'PAYPAL_CLIENT_ID',
    'PAYPAL_CLIENT_SECRET',
    'PAYPAL_WEBHOOK_ID',
    'SERVICE_TOKEN_SIGNING_JWK',
  ],
  // Without its Stripe key the wallet would set US bank accounts up at the PSP simulator (not deployed).
  wallet: ['STRIPE_SECRET_KEY'],
  // Without its key, agents' refunds are refused (REFUNDS_UNAVAILABLE).
  support: ['SUPPORT_SERVICE_TOKEN_SIGNING_JWK'],
  // Without its key, the hub saves no bank account (the wallet takes a mandate's evidence from it alone)
  // and approves no agent's refund (orchestration refunds for support only with its approval); without
  // its Stripe keys, it adds no card.
  'pay-hub': ['HUB_SERVICE_SIGNING_JWK', 'HUB_TRUSTED_PROXIES', 'STRIPE_SECRET_KEY', 'STRIPE_PUBLISHABLE_KEY'],
};

/** Settings that must be equal in the services named (AUTH_* signs and checks the same tokens). */
export const SHARED_SETTINGS: ReadonlyArray<[setting: string, services: readonly string[]]> = [
  ['AUTH_ISSUER', Object.keys(CONSUMED_TOPICS)],
  ['AUTH_AUDIENCE', Object.keys(CONSUMED_TOPICS)],
  ['STEP_UP_ISSUER', ['wallet', 'payment-orchestration']],
];

/**
 * A setting of one server that must equal another setting of the services: the Pay Hub signs
 * people in at the identity provider whose tokens the services accept (AUTH_ISSUER), or every call
 * it forwards is refused.
 */
export const MATCHING_SETTINGS: ReadonlyArray<[server: string, setting: string, servicesSetting: string]> = [['pay-hub', 'OIDC_ISSUER', 'AUTH_ISSUER']];

/** The service's own parser of each file it reads. */
export const FILE_PARSERS: Readonly<Record<string, (text: string) => unknown>> = {
  ROLLOUT_CONFIG_PATH: parseRolloutFile,
  NON_PROFITS_CONFIG_PATH: (text) => NonProfitRegistry.parse(text),
  SUPPORT_ROLLOUT_CONFIG_PATH: parseRolloutFile,
};

/** Files several services read, which must come from one ConfigMap key. */
export const SHARED_FILES = ['ROLLOUT_CONFIG_PATH'];

const SECRET_LIKE_NAME = /PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL/i;
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i;
const LOOPBACK = /(?:^|[/@,\s])(?:127(?:\.\d{1,3}){3}|localhost)(?=$|[:/,\s])/i;

export function checkServiceConfig(objects: readonly KubeObject[], context: { webFrontEnds: Readonly<Record<string, WebFrontEnd>> }): Finding[] {
  return findingsOf('config', (say) => {
    for (const { owner, longRunning, container, main, where } of workloadContainers(objects)) {
      if (!longRunning || !main) continue;
      const env = effectiveEnv(container, owner, objects);
      const http = container.ports?.find((port) => port.name === 'http');
      if (!http) {
        say(owner, `${where} declares no port named http`);
        continue;
      }
      if (env.get('PORT') !== String(http.containerPort)) {
        say(
          owner,
          `${where} listens on PORT=${env.get('PORT') ?? '<unset>'} but declares port http ${http.containerPort}: probes and the Service would miss it`,
        );
      }
      if (!['0.0.0.0', '::'].includes(env.get('HOST') ?? ''))
        say(owner, `${where} listens on HOST=${env.get('HOST') ?? '<unset, 127.0.0.1>'}: probes and other pods cannot reach it`);
      // A web front end without sessions in PostgreSQL has no database (front-end-rules.ts).
      const frontEnd = context.webFrontEnds[owner.metadata.labels?.[SERVICE_LABEL] ?? ''];
      if (frontEnd && !frontEnd.sessionsInDatabase) continue;
      if (env.get('DB_MIGRATE_ON_START') !== 'false') say(owner, `${where} must not migrate at start-up (DB_MIGRATE_ON_START=false): the migration Job does`);
      if (!env.get('DATABASE_URL')?.startsWith('secret:')) say(owner, `${where} must take DATABASE_URL from a Secret (secretKeyRef)`);
    }
  });
}

export function checkInlineSecrets(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('inline-secret', (say) => {
    for (const { owner, container, where } of workloadContainers(objects)) {
      for (const variable of container.env ?? []) {
        if (variable.value === undefined) continue;
        if (SECRET_LIKE_NAME.test(variable.name)) {
          say(owner, `${where} sets ${variable.name} to a literal value: take it from a Secret (secretKeyRef)`);
        } else if (URL_WITH_PASSWORD.test(variable.value)) {
          say(owner, `${where} sets ${variable.name} to a URL with a password: take it from a Secret (secretKeyRef)`);
        }
      }
    }
    for (const secret of objects.filter((o) => o.kind === 'Secret')) {
      const data = { ...((secret.data as object | undefined) ?? {}), ...((secret.stringData as object | undefined) ?? {}) };
      if (Object.keys(data).length > 0)
        say(secret, `holds data (${Object.keys(data).join(', ')}): Secrets are created outside the repository and only referenced`);
    }
    for (const configMap of objects.filter((o) => o.kind === 'ConfigMap')) {
      for (const [key, value] of Object.entries((configMap.data ?? {}) as Record<string, string>)) {
        if (SECRET_LIKE_NAME.test(key)) say(configMap, `key ${key} looks like a secret: put it in a Secret`);
        else if (URL_WITH_PASSWORD.test(String(value))) say(configMap, `key ${key} holds a URL with a password: put it in a Secret`);
      }
    }
  });
}

/** The variables a config class reads: those it declares a validation rule for, its base classes' included. */
function variablesOf(configClass: abstract new () => object): Set<string> {
  return new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(configClass, '', false, false)
      .map((rule) => rule.propertyName),
  );
}

/**
 * How a container validates its configuration at start-up: `what` names it in messages, `load`
 * returns the configuration (an instance of the config class it reads) or throws ConfigError
 * where it would refuse to start.
 */
export interface StartupValidation {
  what: string;
  load: (env: Readonly<Record<string, string>>) => object;
}

export interface StartupConfig {
  env: Record<string, string>;
  /** Variables that come from a Secret. */
  fromSecrets: Set<string>;
  config: Record<string, unknown>;
  /** The variables its config class reads. */
  reads: Set<string>;
}

/**
 * Loads a container's configuration as it would at start-up (config-env, for servers and Jobs
 * alike), reporting what stops it or makes it misbehave in a pod: a Secret without a sample, what
 * validation refuses, NODE_ENV other than production, a setting on a loopback address. Undefined
 * when validation refuses it.
 */
export function loadStartupConfig(
  container: Container,
  owner: KubeObject,
  objects: readonly KubeObject[],
  secrets: DocumentedSecrets,
  validation: StartupValidation,
  report: (message: string) => void,
): StartupConfig | undefined {
  const { env, fromSecrets, problems } = resolveEnv(container, owner, objects, secrets);
  problems.forEach(report);
  let loaded: object;
  try {
    loaded = validation.load(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) report(`would not start: ${problem}`);
    return undefined;
  }
  const config = loaded as Record<string, unknown>;
  const reads = variablesOf(loaded.constructor as new () => object);
  if (reads.has('NODE_ENV') && env.NODE_ENV !== 'production') {
    report(`runs with NODE_ENV=${env.NODE_ENV ?? '<unset>'}: set production (platform-config), under which the services refuse development keys and defaults`);
  }
  for (const [setting, value] of Object.entries(config)) {
    if (!reads.has(setting)) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    if (typeof text === 'string' && LOOPBACK.test(text)) {
      report(`has ${setting}=${text}${setting in env ? '' : ' (its default)'}, a loopback address: in a pod it reaches nothing; set the in-cluster address`);
    }
  }
  return { env, fromSecrets, config, reads };
}

/** A loaded configuration by Deployment, for the settings services must share and the files they read. */
type LoadedConfigs = Map<KubeObject, { service: string; config: Record<string, unknown> }>;

/** Loads every server's configuration (long-running workloads), reporting under config-env. */
function loadServerConfigs(objects: readonly KubeObject[], secrets: DocumentedSecrets, say: Say): LoadedConfigs {
  const loaded: LoadedConfigs = new Map();
  for (const workload of workloads(objects)) {
    if (!workload.longRunning) continue;
    for (const container of workload.template.spec?.containers ?? []) {
      const report = (message: string): void => say(workload.owner, `container ${container.name} ${message}`);
      const service = workload.template.metadata?.labels?.[SERVICE_LABEL];
      const configClass = service === undefined ? undefined : CONFIG_CLASSES[service];
      if (service === undefined || !configClass) {
        report(`validates the configuration of ${service ?? '<no service label>'}, which is not a service of CONFIG_CLASSES (deploy/test/config-rules.ts)`);
        continue;
      }
      const started = loadStartupConfig(
        container,
        workload.owner,
        objects,
        secrets,
        { what: service, load: (env) => loadConfig(service, configClass, env) },
        report,
      );
      if (!started) continue;
      for (const variable of REQUIRED_IN_CLUSTER[service] ?? []) {
        if (!(variable in started.env)) report(`does not set ${variable}, which ${service} needs in a cluster (REQUIRED_IN_CLUSTER)`);
      }
      if (workload.owner.kind === 'Deployment') loaded.set(workload.owner, { service, config: started.config });
    }
  }
  return loaded;
}

/** config-env for servers; for Jobs see checkJobConfigEnv (job-rules.ts). */
export function checkConfigEnv(objects: readonly KubeObject[], secrets: DocumentedSecrets): Finding[] {
  return findingsOf('config-env', (say) => {
    const loaded = loadServerConfigs(objects, secrets, say);
    for (const [setting, services] of SHARED_SETTINGS) {
      const values = [...loaded].filter(([, { service }]) => services.includes(service));
      const distinct = new Set(values.map(([, { config }]) => String(config[setting])));
      if (distinct.size > 1) {
        const summary = values.map(([, { service, config }]) => `${service} ${String(config[setting])}`).join(', ');
        for (const [owner] of values) say(owner, `${setting} differs between ${services.join(', ')}: ${summary}`);
      }
    }
    for (const [server, setting, servicesSetting] of MATCHING_SETTINGS) {
      const expected = new Set([...loaded.values()].filter(({ service }) => service in CONSUMED_TOPICS).map(({ config }) => config[servicesSetting]));
      for (const [owner, { service, config }] of loaded) {
        const value = config[setting];
        if (service !== server || typeof value !== 'string') continue;
        if (![...expected].every((wanted) => wanted === value))
          say(owner, `${setting}=${value}, but the services' ${servicesSetting} is ${[...expected].join(', ')}: they would refuse the tokens it forwards`);
      }
    }
  });
}

export function checkConfigFiles(objects: readonly KubeObject[], secrets: DocumentedSecrets): Finding[] {
  // What config-env says of these configurations is its own finding.
  const loaded = loadServerConfigs(objects, secrets, () => undefined);
  return findingsOf('config-files', (say) => {
    const sources = new Map<string, Array<[KubeObject, string]>>();
    for (const [owner, { config }] of loaded) {
      const pod = (owner.spec as { template: { spec: PodSpec } }).template.spec;
      const container = pod.containers[0];
      const report = (message: string): void => say(owner, message);
      for (const [setting, value] of Object.entries(config)) {
        if (!setting.endsWith('_PATH') || typeof value !== 'string') continue;
        const parse = FILE_PARSERS[setting];
        if (!parse) {
          report(`reads a file from ${setting}: give FILE_PARSERS (deploy/test/config-rules.ts) the service's parser of it`);
          continue;
        }
        if (!value.startsWith('/')) {
          report(
            `${setting}=${value} is relative: the service would read the copy baked into the image; mount the file from a ConfigMap and set its absolute path`,
          );
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
        for (const [owner] of readers) say(owner, `${setting} is one file shared by its readers, but they mount different ConfigMap keys: ${summary}`);
      }
    }
  });
}
