/**
 * The Kubernetes manifests (deploy/k8s): every overlay renders with `kubectl kustomize`, every
 * object is valid against the Kubernetes API schemas, and our rules hold (deploy/test/
 * manifest-rules.ts). Then the rules themselves are tested: each Deployment, broken in one
 * way at a time, must be reported by name.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { allTopicSpecs } from '@pay/contracts';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { CONSUMED_TOPICS } from '../../deploy/test/consumed-topics';
import type { Finding, KubeObject } from '../../deploy/test/kube-objects';
import { formatFinding, workloads } from '../../deploy/test/kube-objects';
import { validateSchemas } from '../../deploy/test/kube-schema';
import type { RuleContext } from '../../deploy/test/manifest-rules';
import { checkManifests, effectiveEnv } from '../../deploy/test/manifest-rules';
import { overlayNames, renderOverlay } from '../../deploy/test/render';

const ROOT = resolve(__dirname, '../..');

/** Every overlay and what it must be; a new overlay fails the test until it is listed here. */
const ENVIRONMENTS: Readonly<Record<string, { namespace: string; production: boolean }>> = {
  dev: { namespace: 'pay-dev', production: false },
  prod: { namespace: 'pay', production: true },
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

describe.each(Object.keys(ENVIRONMENTS))('overlay %s', (overlay) => {
  const { namespace, production } = ENVIRONMENTS[overlay];
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
  it('names every Secret and key the manifests reference', () => {
    const doc = readFileSync(resolve(ROOT, 'docs/deploy.md'), 'utf8');
    const references = new Set<string>();
    for (const overlay of Object.keys(ENVIRONMENTS)) {
      for (const { template } of workloads(objectsOf(overlay))) {
        for (const container of template.spec?.containers ?? []) {
          for (const variable of container.env ?? []) {
            const ref = variable.valueFrom?.secretKeyRef;
            if (ref) references.add(`${ref.name} ${ref.key}`);
          }
          for (const source of container.envFrom ?? []) if (source.secretRef) references.add(`${source.secretRef.name} *`);
        }
      }
    }
    expect(references.size).toBeGreaterThan(0);
    const missing = [...references].filter((reference) => {
      const [name, key] = reference.split(' ');
      return !doc.includes(`\`${name}\``) || (key !== '*' && !doc.includes(`\`${key}\``));
    });
    expect(missing).toEqual([]);
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
