/**
 * The Kubernetes manifests (deploy/k8s): every overlay renders with `kubectl kustomize`, every
 * object is valid against the Kubernetes API schemas, and our rules hold. The rules live in
 * deploy/test, one module per concern; deploy/test/manifest-rules.ts lists every rule and its
 * module. This file is the list of tests: what the render must be, then the rules themselves
 * tested: the render, broken in one way at a time, must be reported by name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { allTopicSpecs } from '@pay/contracts';
import type { IIngressSpec } from 'kubernetes-models/networking.k8s.io/v1/IngressSpec';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicySpec } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicySpec';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { Endpoint, Finding, KubeObject, Port, RuleContext } from '@pay/deploy-checks';
import {
  checkManifests,
  checkWiring,
  cidrContains,
  CONSUMED_TOPICS,
  DEPLOY_TIME_CONFIG_MAPS,
  documentedDeployTimeConfigMaps,
  documentedReaders,
  documentedSecrets,
  effectiveEnv,
  formatFinding,
  networkAllows,
  overlayNames,
  peerMatches,
  PLATFORM_ROUTES,
  podsOf,
  readDeployDoc,
  renderOverlay,
  routeOf,
  secretReaders,
  secretReferences,
  SERVICE_LABEL,
  validateSchemas,
  WEB_FRONT_ENDS,
} from '@pay/deploy-checks';

const ROOT = resolve(__dirname, '../..');

/** Every overlay and what it must be; a new overlay fails the test until it is listed here. */
const ENVIRONMENTS: Readonly<Record<string, { namespace: string; production: boolean; host: string; hubHost: string }>> = {
  dev: { namespace: 'pay-dev', production: false, host: 'api.pay-dev.example.com', hubHost: 'hub.pay-dev.example.com' },
  prod: { namespace: 'pay', production: true, host: 'api.pay.example.com', hubHost: 'hub.pay.example.com' },
};

/** The services (Kafka consumers), and the web front ends (the Pay Hub): each is a Deployment. */
const SERVICES = Object.keys(CONSUMED_TOPICS);
const FRONT_ENDS = Object.keys(WEB_FRONT_ENDS);
const DEPLOYMENTS = [...SERVICES, ...FRONT_ENDS];
const TOPICS = allTopicSpecs();

function contextOf(overlay: string): RuleContext {
  return { production: ENVIRONMENTS[overlay].production, topics: TOPICS, consumedTopics: CONSUMED_TOPICS, webFrontEnds: WEB_FRONT_ENDS };
}

const DEPLOY_MD = readDeployDoc();
const DOCUMENTED_SECRETS = documentedSecrets(DEPLOY_MD);

const rendered = new Map<string, KubeObject[]>();
/** Renders each overlay once; a fresh deep copy for every caller, free to mutate. */
function objectsOf(overlay: string): KubeObject[] {
  if (!rendered.has(overlay)) rendered.set(overlay, renderOverlay(overlay));
  return structuredClone(rendered.get(overlay)!);
}

const find = (objects: KubeObject[], kind: string, name: string): KubeObject | undefined => objects.find((o) => o.kind === kind && o.metadata.name === name);

function get(objects: KubeObject[], kind: string, name: string): KubeObject {
  const object = find(objects, kind, name);
  if (!object) throw new Error(`no ${kind} ${name} among the rendered objects`);
  return object;
}

function podSpec(object: KubeObject): IPodSpec {
  return (object.spec as { template: { spec: IPodSpec } }).template.spec;
}

/** The pod spec of a Deployment, Job or CronJob. */
function podOf(objects: KubeObject[], kind: string, name: string): IPodSpec {
  const spec = get(objects, kind, name).spec as { template?: { spec: IPodSpec }; jobTemplate?: { spec: { template: { spec: IPodSpec } } } };
  return (spec.template ?? spec.jobTemplate!.spec.template).spec;
}

const containerOf = (objects: KubeObject[], kind: string, name: string): IContainer => podOf(objects, kind, name).containers[0];

/** A generated ConfigMap, whatever its content hash. */
const generatedConfigMap = (objects: KubeObject[], name: string): KubeObject =>
  objects.find((o) => o.kind === 'ConfigMap' && new RegExp(`^${name}(-[a-z0-9]{10})?$`).test(o.metadata.name ?? ''))!;

/** The smallest partition count among the topics a service consumes, from libs/contracts. */
function partitionCeiling(service: string): number {
  return Math.min(...CONSUMED_TOPICS[service].map((topic) => TOPICS.find((spec) => spec.name === topic)!.partitions));
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
  ['/v1/webhooks/paypal', 'payment-orchestration'],
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
  ['/v1/support/conversations', 'support'],
  ['/v1/support/conversations/c-1/refunds', 'support'],
  ['/v1/support/availability', 'support'],
  ['/v1/support/queue', 'support'],
  ['/v1/support/agents/me/conversations', 'support'],
  ['/v1/support/persons/person-1/conversations/export', 'support'],
  ['/socket.io/', 'support'],
];

/** Requests the public host must not route: probes, metrics, docs, keys, and operator or service-only APIs. */
const INTERNAL_ROUTES: readonly string[] = [
  ...PLATFORM_ROUTES,
  '/',
  '/v1/ledger/transactions',
  '/v1/ledger/accounts/acc-1/balance',
  '/v1/ledger/reservations/r-1/post',
  '/v1/ledger/corrections',
  '/v1/rollout/reload',
  '/v1/support/wallets/person-1/pin/unblock',
  '/v1/history/read-model',
  '/v1/webhooks/adyen',
  '/v1/paymentsx',
];

describe.each(Object.keys(ENVIRONMENTS))('overlay %s', (overlay) => {
  const { namespace, production, host, hubHost } = ENVIRONMENTS[overlay];
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

  it('runs one Deployment per service and web front end, each with its Service, HPA, PDB, NetworkPolicy and migration Job', () => {
    const deployments = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
    expect(deployments.sort()).toEqual([...DEPLOYMENTS].sort());
    for (const service of DEPLOYMENTS) {
      for (const kind of ['Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy', 'ServiceAccount']) get(objects, kind, service);
      get(objects, 'Job', `${service}-migrate`);
    }
  });

  it.each(SERVICES)('scales %s no further than the partitions of the topics it consumes (from libs/contracts)', (service) => {
    const spec = get(objects, 'HorizontalPodAutoscaler', service).spec as { minReplicas: number; maxReplicas: number };
    expect(spec.maxReplicas).toBeLessThanOrEqual(partitionCeiling(service));
    expect(spec.minReplicas).toBeGreaterThanOrEqual(production ? 3 : 1);
  });

  it.each(DEPLOYMENTS)('sizes the V8 heap of %s well inside its memory limit', (service) => {
    type Container = { name: string; env?: { name: string; value?: string }[]; resources?: { limits?: { memory?: string } } };
    const containers = (get(objects, 'Deployment', service).spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;
    const container = containers.find((c) => c.name === service)!;
    const options = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
    const limit = container.resources?.limits?.memory ?? '';
    const limitMiB = limit.endsWith('Gi') ? Number(limit.slice(0, -2)) * 1024 : Number(limit.replace(/Mi$/, ''));
    expect(options).toContain('--enable-source-maps');
    expect(heapMiB).toBeGreaterThan(0);
    // Code, buffers and the young generation live outside the old space: leave room for them.
    expect(heapMiB * 2).toBeLessThanOrEqual(limitMiB);
  });

  it('publishes ad signals with differential privacy on', () => {
    type Container = { name: string; env?: { name: string; value?: string }[] };
    const containers = (get(objects, 'Deployment', 'ad-signal-aggregation').spec as { template: { spec: { containers: Container[] } } }).template.spec
      .containers;
    const env = containers.find((c) => c.name === 'ad-signal-aggregation')!.env ?? [];
    expect(env.find((e) => e.name === 'AD_SIGNALS_DP_ENABLED')?.value).toBe('true');
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

  it('gives each service and the Pay Hub (its sessions) its own database Secret, and its own schema', () => {
    for (const service of DEPLOYMENTS) {
      const deployment = get(objects, 'Deployment', service);
      const env = effectiveEnv(podSpec(deployment).containers[0], deployment, objects);
      expect(env.get('DATABASE_URL')).toBe(`secret:${service}-database/DATABASE_URL`);
      expect(env.get('DB_SCHEMA')).toBe(service.replace(/-/g, '_'));
    }
  });

  it('follows every wiring rule: configuration, files, Secrets, Ingress and network paths', () => {
    expect(checkWiring(objects, DOCUMENTED_SECRETS).map(formatFinding)).toEqual([]);
  });

  it(`routes the public API on ${host}, over TLS from pay-api-tls, and nothing internal`, () => {
    const routed = (path: string): { path: string; service?: string } => ({ path, service: routeOf(objects, host, path)?.service });
    expect(PUBLIC_ROUTES.map(([path]) => routed(path))).toEqual(PUBLIC_ROUTES.map(([path, service]) => ({ path, service })));
    expect(INTERNAL_ROUTES.map(routed)).toEqual(INTERNAL_ROUTES.map((path) => ({ path, service: undefined })));
    for (const ingress of objects.filter((o) => o.kind === 'Ingress' && !FRONT_ENDS.includes(o.metadata.name ?? ''))) {
      expect({ name: ingress.metadata.name, ...(ingress.spec as IIngressSpec) }).toMatchObject({
        ingressClassName: 'nginx',
        tls: [{ hosts: [host], secretName: 'pay-api-tls' }],
      });
    }
  });

  it(`serves the Pay Hub on ${hubHost}, over TLS from pay-hub-tls: its pages, sign-in and forwarded APIs, and not its health`, () => {
    const routed = (path: string): string | undefined => routeOf(objects, hubHost, path)?.service;
    const pages = ['/', '/payments', '/payments/pay_123', '/methods', '/apps', '/security', '/privacy', '/analytics', '/support', '/assets/index-abc123.js'];
    const server = ['/bff/session', '/bff/login', '/bff/callback', '/api/wallet/v1/wallets/person-1', '/api/history/v1/history/entries/export'];
    expect([...pages, ...server].map((path) => ({ path, service: routed(path) }))).toEqual([...pages, ...server].map((path) => ({ path, service: 'pay-hub' })));
    expect(PLATFORM_ROUTES.map((path) => ({ path, service: routed(path) }))).toEqual(PLATFORM_ROUTES.map((path) => ({ path, service: undefined })));
    // The API host does not serve the hub, nor the hub's host the API.
    expect(routeOf(objects, host, '/bff/session')).toBeUndefined();
    expect(routed('/v1/wallets/person-1')).toBeUndefined();
    expect({ ...(get(objects, 'Ingress', 'pay-hub').spec as IIngressSpec) }).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ hosts: [hubHost], secretName: 'pay-hub-tls' }],
    });
    // The origin the hub checks and the wallet's passkeys accept are this host.
    const hub = get(objects, 'Deployment', 'pay-hub');
    expect(effectiveEnv(podSpec(hub).containers[0], hub, objects).get('HUB_PUBLIC_URL')).toBe(`https://${hubHost}`);
    const wallet = get(objects, 'Deployment', 'wallet');
    expect(effectiveEnv(podSpec(wallet).containers[0], wallet, objects).get('WEBAUTHN_ORIGINS')?.split(',')).toContain(`https://${hubHost}`);
  });

  it('lets payment-orchestration (the PSPs), the wallet (Stripe: US bank account verification) and the Pay Hub (the identity provider) alone reach the internet, on 443 only, and no private or metadata address', () => {
    const pods = (service: string): Endpoint => podsOf(get(objects, 'Deployment', service));
    const https: Port = { number: 443, protocol: 'TCP' };
    const publicAddress: Endpoint = { ip: '52.36.167.221' };
    const internetClients = ['payment-orchestration', 'wallet', 'pay-hub'];
    for (const client of internetClients) {
      expect(networkAllows(objects, pods(client), publicAddress, https)).toBe(true);
      expect(networkAllows(objects, pods(client), publicAddress, { number: 80, protocol: 'TCP' })).toBe(false);
      for (const ip of ['10.12.0.7', '172.20.1.1', '192.168.1.1', '169.254.169.254', '100.64.0.1']) {
        expect({ client, ip, allowed: networkAllows(objects, pods(client), { ip }, https) }).toEqual({ client, ip, allowed: false });
      }
    }
    for (const service of DEPLOYMENTS.filter((name) => !internetClients.includes(name))) {
      expect({ service, allowed: networkAllows(objects, pods(service), publicAddress, https) }).toEqual({ service, allowed: false });
    }
  });

  it('makes the rollout and non-profits ConfigMaps of config/, the files npm start and the image read: no copy to drift', () => {
    const configFile = (name: string): string => readFileSync(resolve(ROOT, 'config', name), 'utf8');
    const nonProfits = objects.find((o) => o.kind === 'ConfigMap' && /^payment-orchestration-non-profits-[a-z0-9]{10}$/.test(o.metadata.name ?? ''));
    expect(get(objects, 'ConfigMap', 'rollout').data).toEqual({ 'rollout.json': configFile('rollout.json') });
    expect(nonProfits?.data).toEqual({ 'non-profits.json': configFile('non-profits.json') });
    const copies = readdirSync(resolve(ROOT, 'deploy'), { recursive: true, encoding: 'utf8' }).filter((path) =>
      ['rollout.json', 'non-profits.json'].includes(basename(path)),
    );
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
    it('keeps at least two pods of each service and web front end through voluntary disruptions', () => {
      for (const service of DEPLOYMENTS) {
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
  /** The objects of every overlay, one after the other. */
  const everyOverlay = (): KubeObject[] => Object.keys(ENVIRONMENTS).flatMap((overlay) => objectsOf(overlay));

  it('names in the "read by" column of its Secrets table every workload that reads each key, and no other', () => {
    const readers = secretReaders(everyOverlay(), DOCUMENTED_SECRETS);
    const sorted = (map: Map<string, Set<string>>): Record<string, string[]> =>
      Object.fromEntries([...map].filter(([, names]) => names.size > 0).map(([secretKey, names]) => [secretKey, [...names].sort()]));
    expect(readers.size).toBeGreaterThan(0);
    expect(sorted(documentedReaders(DEPLOY_MD, SERVICES, FRONT_ENDS))).toEqual(sorted(readers));
  });

  it('lists in its Secrets table every Secret and key the manifests reference, and no other', () => {
    const references = secretReferences(everyOverlay());
    expect(references.size).toBeGreaterThan(0);
    const listed = Object.fromEntries([...DOCUMENTED_SECRETS].map(([name, keys]) => [name, [...keys].sort()]));
    const referenced = Object.fromEntries([...references].map(([name, keys]) => [name, [...keys].sort()]));
    expect(listed).toEqual(referenced);
  });

  it('lists in its "ConfigMaps you create" table every ConfigMap the manifests read but do not hold, with its keys, and the rules know each', () => {
    const missing = new Map<string, Set<string>>();
    for (const overlay of Object.keys(ENVIRONMENTS)) {
      const objects = objectsOf(overlay);
      const held = new Set(objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name));
      for (const object of objects) {
        const pod = (object.spec as { template?: { spec?: IPodSpec } } | undefined)?.template?.spec;
        for (const container of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
          for (const variable of container.env ?? []) {
            const ref = variable.valueFrom?.configMapKeyRef;
            if (!ref || held.has(ref.name)) continue;
            missing.set(ref.name ?? '', new Set([...(missing.get(ref.name ?? '') ?? []), ref.key]));
          }
        }
      }
    }
    const sorted = (map: Map<string, Set<string>>): Record<string, string[]> => Object.fromEntries([...map].map(([name, keys]) => [name, [...keys].sort()]));
    expect(sorted(missing)).toEqual({ 'pay-hub-proxies': ['HUB_TRUSTED_PROXIES'] });
    expect(sorted(documentedDeployTimeConfigMaps(DEPLOY_MD))).toEqual(sorted(missing));
    expect(Object.fromEntries(Object.entries(DEPLOY_TIME_CONFIG_MAPS).map(([name, data]) => [name, Object.keys(data).sort()]))).toEqual(sorted(missing));
  });
});

/** One way to break the render, and what must be reported. */
interface Breakage {
  description: string;
  rule: string;
  /** `Kind name`, e.g. `Job wallet-migrate`: the objects the rule must report. */
  reported: string[];
  /** Mutates the objects, or returns the objects to check instead. */
  breakIt: (objects: KubeObject[]) => KubeObject[] | void;
}

/**
 * The test of the test: take the rendered objects, break one Deployment (or any object) in one
 * way, and the rule checker must report it, under the right rule, and nothing else.
 */
describe('the rule checker', () => {
  const overlay = 'prod';
  const namespace = ENVIRONMENTS[overlay].namespace;
  const context = contextOf(overlay);

  /** What to break in the Deployment's pod, and the rule that must report it. */
  type PodBreakage = [description: string, rule: string, breakIt: (pod: IPodSpec, container: IContainer) => void];
  const breakages: PodBreakage[] = [
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
    [
      '/tmp volume removed',
      'writable-tmp',
      (pod, container) => {
        container.volumeMounts = [];
        pod.volumes = [];
      },
    ],
    ['image tag latest', 'image', (_pod, container) => (container.image = container.image!.replace(/:[^:/]+$/, ':latest'))],
    ['image without a tag', 'image', (_pod, container) => (container.image = container.image!.replace(/:[^:/]+$/, ''))],
    ['literal STRIPE_SECRET_KEY', 'inline-secret', (_pod, container) => container.env!.push({ name: 'STRIPE_SECRET_KEY', value: 'sk_live_x' })],
    [
      'literal DATABASE_URL with a password',
      'inline-secret',
      (_pod, container) => {
        container.env = container.env!.filter((variable) => variable.name !== 'DATABASE_URL');
        container.env.push({ name: 'DATABASE_URL', value: 'postgres://wallet:hunter2@db:5432/payments' });
      },
    ],
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

  describe.each(FRONT_ENDS)('web front end %s', (frontEnd) => {
    const subject = `Deployment ${namespace}/${frontEnd}`;
    const container = (objects: KubeObject[]): IContainer => podSpec(get(objects, 'Deployment', frontEnd)).containers[0];
    const ruleFindings = (findings: Finding[], rule: string): string[] => findings.filter((finding) => finding.rule === rule).map(formatFinding);

    it('follows every rule as rendered: no Kafka setting, no Kafka principal, no path to the brokers', () => {
      expect(ruleFindings(checkManifests(objectsOf(overlay), context), 'web-front-end')).toEqual([]);
    });

    // The Deployment rules hold a front end as any service.
    it.each(breakages)('%s: reported under %s, naming the Deployment', (_description, rule, breakIt) => {
      const objects = objectsOf(overlay);
      const pod = podSpec(get(objects, 'Deployment', frontEnd));
      breakIt(pod, pod.containers[0]);
      const findings = checkManifests(objects, context);
      expect(findings).toContainEqual(expect.objectContaining<Partial<Finding>>({ object: subject, rule }));
      const allowed = rule === 'image' ? [subject, `Job ${namespace}/${frontEnd}-migrate`] : [subject];
      expect(findings.filter((finding) => !allowed.includes(finding.object)).map(formatFinding)).toEqual([]);
    });

    it.each(['Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy'])('its %s removed: reported as a missing companion', (kind) => {
      const objects = objectsOf(overlay).filter((o) => !(o.kind === kind && o.metadata.name === frontEnd));
      expect(checkManifests(objects, context)).toContainEqual({ object: subject, rule: 'companions', message: expect.stringContaining(kind) });
    });

    it('its migration Job removed (it keeps sessions in PostgreSQL): reported', () => {
      const objects = objectsOf(overlay).filter((o) => !(o.kind === 'Job' && o.metadata.name === `${frontEnd}-migrate`));
      expect(checkManifests(objects, context)).toContainEqual(expect.objectContaining({ object: subject, rule: 'migration' }));
    });

    it('given platform-config (the Kafka settings): reported under web-front-end, and nothing else', () => {
      const objects = objectsOf(overlay);
      const platformConfig = generatedConfigMap(objects, 'platform-config').metadata.name!;
      container(objects).envFrom!.unshift({ configMapRef: { name: platformConfig } });
      const findings = checkManifests(objects, context);
      expect(findings).toContainEqual({
        object: subject,
        rule: 'web-front-end',
        message: expect.stringMatching(/gets KAFKA_BROKERS, KAFKA_SASL_MECHANISM: a web front end reads no Kafka/),
      });
      expect(findings.map(formatFinding)).toHaveLength(1);
    });

    it('let through to the Kafka brokers, or made a Kafka principal: reported', () => {
      const objects = objectsOf(overlay);
      (get(objects, 'NetworkPolicy', frontEnd).spec as INetworkPolicySpec).egress!.push({
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kafka' } } }],
        ports: [{ protocol: 'TCP', port: 9092 }],
      });
      objects.push({
        apiVersion: 'kafka.strimzi.io/v1beta2',
        kind: 'KafkaUser',
        metadata: { name: frontEnd, namespace, labels: { 'strimzi.io/cluster': 'pay-kafka' } },
        spec: { authentication: { type: 'scram-sha-512' } },
      });
      expect(ruleFindings(checkManifests(objects, context), 'web-front-end')).toEqual([
        `${subject} [web-front-end]: KafkaUser ${frontEnd} exists: a web front end is no Kafka principal`,
        `${subject} [web-front-end]: its NetworkPolicies let it reach the Kafka cluster: a web front end talks to the services over HTTP only`,
      ]);
    });

    it('declared without sessions in PostgreSQL: its database and its path to PostgreSQL reported, and no migration or DATABASE_URL demanded', () => {
      const objects = objectsOf(overlay);
      const without = { ...context, webFrontEnds: { ...WEB_FRONT_ENDS, [frontEnd]: { sessionsInDatabase: false } } };
      expect(ruleFindings(checkManifests(objects, without), 'web-front-end')).toEqual([
        `${subject} [web-front-end]: container ${frontEnd} gets DATABASE_URL, but ${frontEnd} keeps no sessions in PostgreSQL (web-front-ends.ts)`,
        `${subject} [web-front-end]: its NetworkPolicies let it reach PostgreSQL, but ${frontEnd} keeps no sessions there`,
      ]);
      container(objects).env = container(objects).env!.filter((variable) => variable.name !== 'DATABASE_URL');
      expect(ruleFindings(checkManifests(objects, without), 'config')).toEqual([]);
    });

    it('scaled beyond any partition count: no ceiling for a front end; not listed as one, its HPA is reported', () => {
      const objects = objectsOf(overlay);
      (get(objects, 'HorizontalPodAutoscaler', frontEnd).spec as { maxReplicas: number }).maxReplicas = 40;
      expect(ruleFindings(checkManifests(objects, context), 'autoscaling')).toEqual([]);
      const unlisted = { ...context, webFrontEnds: {} };
      expect(checkManifests(objects, unlisted)).toContainEqual(
        expect.objectContaining({
          object: `HorizontalPodAutoscaler ${namespace}/${frontEnd}`,
          rule: 'autoscaling',
          message: expect.stringContaining('no entry'),
        }),
      );
    });
  });

  /** Any object of the render broken: the rule must report exactly the objects named, and no rule anything else. */
  const objectBreakages: Breakage[] = [
    {
      description: 'ledger-verify with no container',
      rule: 'schema',
      reported: ['CronJob ledger-verify'],
      breakIt: (objects) => void (podOf(objects, 'CronJob', 'ledger-verify').containers = []),
    },
    {
      description: 'wallet-migrate without activeDeadlineSeconds',
      rule: 'batch',
      reported: ['Job wallet-migrate'],
      breakIt: (objects) => void delete (get(objects, 'Job', 'wallet-migrate').spec as { activeDeadlineSeconds?: number }).activeDeadlineSeconds,
    },
    {
      description: 'ledger-verify without activeDeadlineSeconds in its jobTemplate',
      rule: 'batch',
      reported: ['CronJob ledger-verify'],
      breakIt: (objects) => {
        const spec = get(objects, 'CronJob', 'ledger-verify').spec as { jobTemplate: { spec: { activeDeadlineSeconds?: number } } };
        delete spec.jobTemplate.spec.activeDeadlineSeconds;
      },
    },
    {
      description: 'history-rebuild restarting its pod Always',
      rule: 'batch',
      reported: ['CronJob history-rebuild'],
      breakIt: (objects) => void (podOf(objects, 'CronJob', 'history-rebuild').restartPolicy = 'Always'),
    },
    {
      description: 'history-rebuild taking env from history-projection-config without its hash suffix (not rendered)',
      rule: 'references',
      reported: ['CronJob history-rebuild'],
      breakIt: (objects) => {
        const ref = containerOf(objects, 'CronJob', 'history-rebuild').envFrom!.find((source) =>
          source.configMapRef?.name?.startsWith('history-projection-config-'),
        )!;
        ref.configMapRef!.name = 'history-projection-config';
      },
    },
    {
      description: 'ledger-verify reading LEDGER_SCHEMA from a key wallet-config lacks',
      rule: 'references',
      reported: ['CronJob ledger-verify'],
      breakIt: (objects) => {
        const configMap = generatedConfigMap(objects, 'wallet-config').metadata.name!;
        const container = containerOf(objects, 'CronJob', 'ledger-verify');
        container.env = container.env!.map((variable) =>
          variable.name === 'LEDGER_SCHEMA' ? { name: variable.name, valueFrom: { configMapKeyRef: { name: configMap, key: 'LEDGER_SCHEMA' } } } : variable,
        );
      },
    },
    {
      description: 'the ServiceAccount wallet removed',
      rule: 'references',
      reported: ['Deployment wallet', 'Job wallet-migrate', 'CronJob ledger-verify'],
      breakIt: (objects) => objects.filter((o) => !(o.kind === 'ServiceAccount' && o.metadata.name === 'wallet')),
    },
  ];

  it.each(objectBreakages)('$description: reported under $rule', ({ rule, reported, breakIt }) => {
    const original = objectsOf(overlay);
    const objects = breakIt(original) ?? original;
    const findings = checkManifests(objects, context);
    const subjects = reported.map((name) => name.replace(' ', ` ${namespace}/`));
    for (const subject of subjects) expect(findings).toContainEqual(expect.objectContaining<Partial<Finding>>({ object: subject, rule }));
    expect(findings.filter((finding) => finding.rule !== rule || !subjects.includes(finding.object)).map(formatFinding)).toEqual([]);
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
    const messages = checkManifests(withoutDlq, context)
      .filter((f) => f.rule === 'kafka-topics')
      .map(formatFinding);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^KafkaTopic wallet\.events\.v1\.dlq \[kafka-topics\]: missing/),
        expect.stringMatching(/payments\.events\.v1 .*24 partitions; libs\/contracts says 12/),
        expect.stringMatching(/payments\.events\.v1 .*1 replicas; production needs 3/),
        expect.stringMatching(/payments\.events\.v1 .*min\.insync\.replicas 1; production needs 2/),
      ]),
    );
  });

  it('reports a Kafka principal with a grant topic-access.ts does not give, a missing one, and a service signing in as another', () => {
    const objects = objectsOf(overlay);
    const history = get(objects, 'KafkaUser', 'history-projection').spec as { authorization: { acls: Array<Record<string, unknown>> } };
    history.authorization.acls.push({ resource: { type: 'topic', name: 'wallet.commands.v1', patternType: 'literal' }, operations: ['Write'], host: '*' });
    const withoutAds = objects.filter((o) => !(o.kind === 'KafkaUser' && o.metadata.name === 'ad-signal-aggregation'));
    const wallet = podSpec(get(withoutAds, 'Deployment', 'wallet')).containers[0];
    wallet.env = wallet.env!.map((variable) => (variable.name === 'KAFKA_SASL_USERNAME' ? { ...variable, value: 'payment-orchestration' } : variable));
    const messages = checkManifests(withoutAds, context)
      .filter((f) => f.rule === 'kafka-users')
      .map(formatFinding);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^KafkaUser ad-signal-aggregation \[kafka-users\]: missing/),
        expect.stringMatching(/history-projection .*has the ACL topic literal wallet\.commands\.v1 write, which topic-access\.ts does not give it/),
        expect.stringMatching(/wallet .*KAFKA_SASL_USERNAME must be wallet/),
      ]),
    );
  });

  it('reports a PodDisruptionBudget that would block every node drain', () => {
    const objects = objectsOf(overlay);
    (get(objects, 'PodDisruptionBudget', 'wallet').spec as { minAvailable: number }).minAvailable = 3;
    expect(checkManifests(objects, context)).toContainEqual(
      expect.objectContaining({ object: `PodDisruptionBudget ${namespace}/wallet`, rule: 'autoscaling' }),
    );
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

  const withoutEnv = (container: IContainer, name: string): void => {
    container.env = container.env!.filter((variable) => variable.name !== name);
  };
  const envOf = (container: IContainer, name: string): NonNullable<IContainer['env']>[number] => container.env!.find((variable) => variable.name === name)!;
  const configMapData = (objects: KubeObject[], name: string): Record<string, string> => generatedConfigMap(objects, name).data as Record<string, string>;
  const ingressOf = (objects: KubeObject[], name: string): IIngressSpec => get(objects, 'Ingress', name).spec as IIngressSpec;
  const policyOf = (objects: KubeObject[], name: string): INetworkPolicySpec => get(objects, 'NetworkPolicy', name).spec as INetworkPolicySpec;
  const admitsPods =
    (service: string) =>
    (rule: { from?: INetworkPolicyPeer[]; to?: INetworkPolicyPeer[] }): boolean =>
      !!(rule.from ?? rule.to)?.some((peer) => !peer.namespaceSelector && peer.podSelector?.matchLabels?.[SERVICE_LABEL] === service);

  const SERVERS = SERVICES.map((service) => `Deployment ${service}`);
  const fromSecret = (name: string, secret: string): NonNullable<IContainer['env']>[number] => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key: name } },
  });

  /** Each object named must be reported under the rule, and no other object at all. */
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
      // The hub's own config class (PayHubConfig) under NODE_ENV=production refuses it.
      description: 'the Pay Hub signing in with development tokens',
      rule: 'config-env',
      reported: ['Deployment pay-hub'],
      breakIt: (objects) => void (configMapData(objects, 'pay-hub-config').HUB_SIGN_IN = 'development'),
    },
    {
      description: 'the Pay Hub signing people in at another identity provider than the services trust',
      rule: 'config-env',
      reported: ['Deployment pay-hub'],
      breakIt: (objects) => {
        const container = containerOf(objects, 'Deployment', 'pay-hub');
        withoutEnv(container, 'OIDC_ISSUER');
        container.env!.push({ name: 'OIDC_ISSUER', value: 'https://id.elsewhere.example.com' });
      },
    },
    {
      description: 'the Pay Hub without its wallet URL (127.0.0.1 when unset)',
      rule: 'config-env',
      reported: ['Deployment pay-hub'],
      breakIt: (objects) => void delete configMapData(objects, 'pay-hub-config').WALLET_URL,
    },
    {
      description: 'the Pay Hub forwarding to a service whose NetworkPolicy does not admit it',
      rule: 'network',
      reported: ['Deployment pay-hub'],
      breakIt: (objects) => void (configMapData(objects, 'pay-hub-config').HISTORY_URL = 'http://ad-signal-aggregation'),
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
      breakIt: (objects) =>
        void (envOf(containerOf(objects, 'Deployment', 'payment-orchestration'), 'STRIPE_SECRET_KEY').valueFrom!.secretKeyRef!.key = 'STRIPE_API_KEY'),
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
    const findings = checkWiring(objects, DOCUMENTED_SECRETS);
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
      [
        '# Deploying',
        '## Secrets',
        '',
        '| Secret | key | read by |',
        '|---|---|---|',
        '| `a` | `K1` | x |',
        '| `a` | `K2` | x |',
        '| `tls` | `tls.crt`, `tls.key` | y |',
        '## Apply',
        '| `b` | `K3` | z |',
      ].join('\n'),
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
