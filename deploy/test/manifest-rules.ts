/**
 * Our own rules for the rendered manifests, beyond what the API schemas say: a function of the
 * objects alone (no rendering, no cluster), so a test can break an object and see the rule
 * catch it. Each finding names the object at fault and the rule:
 *
 * - probes           every long-running container has startup, liveness (/health/live) and
 *                    readiness (/health/ready) probes on a port it declares
 * - resources        every container requests and limits cpu and memory, requests ≤ limits
 * - security         non-root (pod and container), a user id, no privilege escalation, a
 *                    read-only root file system, ALL capabilities dropped, a seccomp profile,
 *                    no host namespaces
 * - writable-tmp     a read-only root file system comes with an emptyDir at /tmp
 * - image            every image has a tag or digest, and the tag is not `latest`
 * - inline-secret    no Secret with data, no secret-looking env var or ConfigMap key with a
 *                    literal value, no URL with a password in a literal
 * - references       ConfigMaps, keys and ServiceAccounts referenced by a pod exist
 * - config           a service listens on 0.0.0.0 at its declared port, leaves migrations to
 *                    the Job (DB_MIGRATE_ON_START=false) and takes DATABASE_URL from a Secret
 * - shutdown         terminationGracePeriodSeconds leaves a consumer time to finish and commit
 * - batch            a Job has a deadline and a restart policy a Job accepts
 * - companions       every Deployment has a Service, a PodDisruptionBudget, an HPA and its own
 *                    NetworkPolicy selecting it; its namespace denies traffic by default
 * - autoscaling      HPA maxReplicas ≤ the smallest partition count of the topics the service
 *                    consumes; a PDB never blocks every eviction at the HPA's minimum
 * - migration        every Deployment has a migration Job running its image
 * - kafka-topics     exactly the topics of libs/contracts with their partitions; in production
 *                    replicas 3 and min.insync.replicas 2
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { Finding, KubeObject, LabelSelector, Workload } from './kube-objects';
import { describeObject, selectorMatches, selectsEverything, workloads } from './kube-objects';

export interface TopicPartitions {
  name: string;
  partitions: number;
}

export interface RuleContext {
  /** Production rules on top: KafkaTopic replicas 3 and min.insync.replicas 2. */
  production: boolean;
  /** Every topic that must exist, with its partitions (libs/contracts allTopicSpecs()). */
  topics: readonly TopicPartitions[];
  /** Topics each service consumes, by its `app.kubernetes.io/name`. */
  consumedTopics: Readonly<Record<string, readonly string[]>>;
}

/** Preserves 5 s of preStop, the message in hand (up to 5 attempts with backoff), the offset commit, the relay and HTTP drain. */
export const MIN_TERMINATION_GRACE_SECONDS = 45;
export const PRODUCTION_TOPIC_REPLICAS = 3;
export const PRODUCTION_MIN_INSYNC_REPLICAS = 2;
/** Label that names the service a workload belongs to. */
export const SERVICE_LABEL = 'app.kubernetes.io/name';

const SECRET_LIKE_NAME = /PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL/i;
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i;

type PodSpec = IPodSpec;
type Container = IContainer;

export function checkManifests(objects: readonly KubeObject[], context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  const report = (object: Pick<KubeObject, 'kind' | 'metadata'>, rule: string, message: string): void => {
    findings.push({ object: describeObject(object), rule, message });
  };
  for (const workload of workloads(objects)) checkWorkload(workload, objects, report);
  for (const object of objects) {
    if (object.kind === 'Secret') checkSecret(object, report);
    if (object.kind === 'ConfigMap') checkConfigMap(object, report);
    if (object.kind === 'Deployment') {
      checkCompanions(object, objects, report);
      checkMigrationJob(object, objects, report);
    }
    if (object.kind === 'HorizontalPodAutoscaler') checkAutoscaler(object, objects, context, report);
  }
  checkDefaultDeny(objects, report);
  checkKafkaTopics(objects, context, report);
  return findings;
}

type Report = (object: Pick<KubeObject, 'kind' | 'metadata'>, rule: string, message: string) => void;

function sameNamespace(a: KubeObject, b: KubeObject): boolean {
  return (a.metadata.namespace ?? '') === (b.metadata.namespace ?? '');
}

function podSpecOf(workload: Workload): PodSpec {
  return workload.template.spec ?? { containers: [] };
}

// ---- pods ---------------------------------------------------------------------------------

function checkWorkload(workload: Workload, objects: readonly KubeObject[], report: Report): void {
  const { owner, longRunning } = workload;
  const pod = podSpecOf(workload);
  const say = (rule: string, message: string): void => report(owner, rule, message);

  const podContext = pod.securityContext;
  if (podContext?.runAsNonRoot !== true) say('security', 'pod securityContext.runAsNonRoot is not true');
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) say('security', 'pod shares a host namespace (hostNetwork, hostPID or hostIPC)');

  const containers: Array<[Container, boolean]> = [
    ...(pod.initContainers ?? []).map((container): [Container, boolean] => [container, false]),
    ...(pod.containers ?? []).map((container): [Container, boolean] => [container, true]),
  ];
  if ((pod.containers ?? []).length === 0) say('schema', 'pod template has no containers');
  for (const [container, main] of containers) {
    const where = `container ${container.name}`;
    checkImage(container, where, say);
    checkResources(container, where, say);
    checkSecurity(container, pod, where, say);
    checkEnvSecrets(container, where, say);
    checkReferences(container, owner, objects, where, say);
    if (longRunning && main) {
      checkProbes(container, where, say);
      checkServiceConfig(container, owner, objects, where, say);
    }
  }
  if (pod.serviceAccountName && pod.serviceAccountName !== 'default') {
    const exists = objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === pod.serviceAccountName && sameNamespace(o, owner));
    if (!exists) say('references', `serviceAccountName ${pod.serviceAccountName} is not among the manifests`);
  }
  if (longRunning) checkShutdown(pod, say);
  else checkBatch(owner, pod, say);
}

function checkImage(container: Container, where: string, say: (rule: string, message: string) => void): void {
  const image = container.image;
  if (!image) return say('image', `${where} has no image`);
  if (image.includes('@')) {
    if (!/@sha256:[a-f0-9]{64}$/.test(image)) say('image', `${where} image ${image} has a malformed digest`);
    return;
  }
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const tag = colon > lastSlash ? image.slice(colon + 1) : undefined;
  if (!tag) say('image', `${where} image ${image} has no tag (Kubernetes would pull latest): set it with the overlay's images:`);
  else if (tag === 'latest') say('image', `${where} image ${image} uses the tag latest: pin a release`);
}

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const MULTIPLIERS: Readonly<Record<string, number>> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity ("250m", "1Gi", 2) as a number, or undefined if it is not one. */
export function parseQuantity(quantity: string | number | undefined): number | undefined {
  if (typeof quantity === 'number') return quantity;
  const match = quantity === undefined ? null : QUANTITY.exec(quantity);
  return match ? Number(match[1]) * (MULTIPLIERS[match[2] ?? ''] ?? Number.NaN) : undefined;
}

function checkResources(container: Container, where: string, say: (rule: string, message: string) => void): void {
  const resources = container.resources ?? {};
  for (const kind of ['requests', 'limits'] as const) {
    const values = resources[kind];
    if (!values) {
      say('resources', `${where} has no resources.${kind}`);
      continue;
    }
    for (const resource of ['cpu', 'memory']) {
      if (values[resource] === undefined) say('resources', `${where} has no resources.${kind}.${resource}`);
    }
  }
  for (const resource of ['cpu', 'memory']) {
    const request = parseQuantity(resources.requests?.[resource]);
    const limit = parseQuantity(resources.limits?.[resource]);
    if (request !== undefined && limit !== undefined && request > limit) {
      say('resources', `${where} requests more ${resource} than its limit (the API server refuses it)`);
    }
  }
}

function checkSecurity(container: Container, pod: PodSpec, where: string, say: (rule: string, message: string) => void): void {
  const own = container.securityContext;
  const inherited = pod.securityContext;
  if (!own) say('security', `${where} has no securityContext`);
  if ((own?.runAsNonRoot ?? inherited?.runAsNonRoot) !== true) say('security', `${where} may run as root: runAsNonRoot is not true`);
  const user = own?.runAsUser ?? inherited?.runAsUser;
  if (user === undefined) say('security', `${where} has no runAsUser (the kubelet cannot verify a user given by name)`);
  else if (user === 0) say('security', `${where} runs as user 0`);
  if (own?.allowPrivilegeEscalation !== false) say('security', `${where} does not set allowPrivilegeEscalation: false`);
  if (own?.readOnlyRootFilesystem !== true) say('security', `${where} does not set readOnlyRootFilesystem: true`);
  if (!own?.capabilities?.drop?.includes('ALL')) say('security', `${where} does not drop ALL capabilities`);
  if ((own?.capabilities?.add ?? []).length > 0) say('security', `${where} adds capabilities ${own?.capabilities?.add?.join(', ')}`);
  if (own?.privileged) say('security', `${where} is privileged`);
  const seccomp = (own?.seccompProfile ?? inherited?.seccompProfile)?.type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') say('security', `${where} has no seccompProfile RuntimeDefault (or Localhost)`);

  if (own?.readOnlyRootFilesystem === true) {
    const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
    const volume = tmp && pod.volumes?.find((candidate) => candidate.name === tmp.name);
    if (!volume?.emptyDir) say('writable-tmp', `${where} has a read-only root file system but no emptyDir at /tmp`);
  }
}

function checkEnvSecrets(container: Container, where: string, say: (rule: string, message: string) => void): void {
  for (const variable of container.env ?? []) {
    if (variable.value === undefined) continue;
    if (SECRET_LIKE_NAME.test(variable.name)) {
      say('inline-secret', `${where} sets ${variable.name} to a literal value: take it from a Secret (secretKeyRef)`);
    } else if (URL_WITH_PASSWORD.test(variable.value)) {
      say('inline-secret', `${where} sets ${variable.name} to a URL with a password: take it from a Secret (secretKeyRef)`);
    }
  }
}

function configMapsOf(owner: KubeObject, objects: readonly KubeObject[]): Map<string, Record<string, string>> {
  return new Map(
    objects
      .filter((o) => o.kind === 'ConfigMap' && sameNamespace(o, owner))
      .map((o) => [o.metadata.name ?? '', (o.data ?? {}) as Record<string, string>]),
  );
}

function checkReferences(container: Container, owner: KubeObject, objects: readonly KubeObject[], where: string, say: (rule: string, message: string) => void): void {
  const configMaps = configMapsOf(owner, objects);
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef;
    if (ref && !ref.optional && !configMaps.has(ref.name ?? '')) say('references', `${where} takes env from ConfigMap ${ref.name}, which is not among the manifests`);
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.configMapKeyRef;
    if (!ref || ref.optional) continue;
    const data = configMaps.get(ref.name ?? '');
    if (!data) say('references', `${where} reads ${variable.name} from ConfigMap ${ref.name}, which is not among the manifests`);
    else if (!(ref.key in data)) say('references', `${where} reads ${variable.name} from key ${ref.key}, which ConfigMap ${ref.name} lacks`);
  }
}

function probePath(probe: IProbe | undefined): string | undefined {
  return probe?.httpGet?.path;
}

function checkProbes(container: Container, where: string, say: (rule: string, message: string) => void): void {
  const expected: Array<[keyof Container & `${string}Probe`, string]> = [
    ['startupProbe', '/health/live'],
    ['livenessProbe', '/health/live'],
    ['readinessProbe', '/health/ready'],
  ];
  const ports = container.ports ?? [];
  for (const [field, path] of expected) {
    const probe = container[field];
    if (!probe) {
      say('probes', `${where} has no ${field}`);
      continue;
    }
    if (probePath(probe) !== path) {
      // A liveness probe that checks PostgreSQL and Kafka restarts every pod when one of them blips.
      say('probes', `${where} ${field} must GET ${path}, not ${probePath(probe) ?? 'a non-HTTP check'}`);
    }
    const port = probe.httpGet?.port;
    if (port !== undefined && !ports.some((p) => p.name === port || p.containerPort === port)) {
      say('probes', `${where} ${field} targets port ${port}, which the container does not declare`);
    }
  }
}

/** The environment a container starts with, as far as the manifests say: ConfigMaps then env (secrets as `secret:<name>/<key>`). */
export function effectiveEnv(container: Container, owner: KubeObject, objects: readonly KubeObject[]): Map<string, string> {
  const configMaps = configMapsOf(owner, objects);
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

function checkServiceConfig(container: Container, owner: KubeObject, objects: readonly KubeObject[], where: string, say: (rule: string, message: string) => void): void {
  const env = effectiveEnv(container, owner, objects);
  const http = container.ports?.find((port) => port.name === 'http');
  if (!http) return say('config', `${where} declares no port named http`);
  if (env.get('PORT') !== String(http.containerPort)) {
    say('config', `${where} listens on PORT=${env.get('PORT') ?? '<unset>'} but declares port http ${http.containerPort}: probes and the Service would miss it`);
  }
  if (!['0.0.0.0', '::'].includes(env.get('HOST') ?? '')) say('config', `${where} listens on HOST=${env.get('HOST') ?? '<unset, 127.0.0.1>'}: probes and other pods cannot reach it`);
  if (env.get('DB_MIGRATE_ON_START') !== 'false') say('config', `${where} must not migrate at start-up (DB_MIGRATE_ON_START=false): the migration Job does`);
  if (!env.get('DATABASE_URL')?.startsWith('secret:')) say('config', `${where} must take DATABASE_URL from a Secret (secretKeyRef)`);
}

function checkShutdown(pod: PodSpec, say: (rule: string, message: string) => void): void {
  const grace = pod.terminationGracePeriodSeconds;
  if (grace === undefined || grace < MIN_TERMINATION_GRACE_SECONDS) {
    say('shutdown', `terminationGracePeriodSeconds is ${grace ?? 'unset (30)'}; a consumer needs at least ${MIN_TERMINATION_GRACE_SECONDS} s to finish and commit`);
  }
  for (const container of pod.containers ?? []) {
    const sleep = container.lifecycle?.preStop?.sleep?.seconds;
    if (sleep !== undefined && grace !== undefined && sleep >= grace) say('shutdown', `container ${container.name} preStop sleeps ${sleep} s of a ${grace} s grace period`);
  }
}

function checkBatch(owner: KubeObject, pod: PodSpec, say: (rule: string, message: string) => void): void {
  const spec = owner.spec as Record<string, unknown> | undefined;
  const jobSpec = (owner.kind === 'CronJob' ? (spec?.jobTemplate as { spec?: Record<string, unknown> } | undefined)?.spec : spec) ?? {};
  if (owner.kind === 'Job' || owner.kind === 'CronJob') {
    if (typeof jobSpec.activeDeadlineSeconds !== 'number') say('batch', 'has no activeDeadlineSeconds: a hung run would hold its slot forever');
    if (pod.restartPolicy !== 'Never' && pod.restartPolicy !== 'OnFailure') say('batch', 'pod restartPolicy must be Never or OnFailure');
  }
}

// ---- objects ------------------------------------------------------------------------------

function checkSecret(secret: KubeObject, report: Report): void {
  const data = { ...((secret.data as object | undefined) ?? {}), ...((secret.stringData as object | undefined) ?? {}) };
  if (Object.keys(data).length > 0) report(secret, 'inline-secret', `holds data (${Object.keys(data).join(', ')}): Secrets are created outside the repository and only referenced`);
}

function checkConfigMap(configMap: KubeObject, report: Report): void {
  for (const [key, value] of Object.entries((configMap.data ?? {}) as Record<string, string>)) {
    if (SECRET_LIKE_NAME.test(key)) report(configMap, 'inline-secret', `key ${key} looks like a secret: put it in a Secret`);
    else if (URL_WITH_PASSWORD.test(String(value))) report(configMap, 'inline-secret', `key ${key} holds a URL with a password: put it in a Secret`);
  }
}

function templateLabels(deployment: KubeObject): Record<string, string> {
  return ((deployment.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template?.metadata?.labels) ?? {};
}

function checkCompanions(deployment: KubeObject, objects: readonly KubeObject[], report: Report): void {
  const labels = templateLabels(deployment);
  const name = deployment.metadata.name;
  const inNamespace = objects.filter((o) => sameNamespace(o, deployment));
  const say = (message: string): void => report(deployment, 'companions', message);

  const services = inNamespace.filter((o) => {
    const selector = (o.spec as { selector?: Record<string, string> } | undefined)?.selector;
    return o.kind === 'Service' && !!selector && Object.keys(selector).length > 0 && selectorMatches({ matchLabels: selector }, labels);
  });
  if (services.length === 0) say('no Service selects its pods');

  const budgets = inNamespace.filter((o) => o.kind === 'PodDisruptionBudget' && selectorMatches((o.spec as { selector?: LabelSelector } | undefined)?.selector, labels));
  if (budgets.length === 0) say('no PodDisruptionBudget selects its pods');
  if (budgets.length > 1) say(`${budgets.length} PodDisruptionBudgets select its pods: the eviction API refuses to evict any of them`);

  const autoscalers = inNamespace.filter((o) => {
    const target = (o.spec as { scaleTargetRef?: { kind?: string; name?: string } } | undefined)?.scaleTargetRef;
    return o.kind === 'HorizontalPodAutoscaler' && target?.kind === 'Deployment' && target.name === name;
  });
  if (autoscalers.length === 0) say('no HorizontalPodAutoscaler scales it');

  const policies = inNamespace.filter((o) => {
    const spec = o.spec as { podSelector?: LabelSelector; policyTypes?: string[] } | undefined;
    return o.kind === 'NetworkPolicy' && !selectsEverything(spec?.podSelector) && selectorMatches(spec?.podSelector, labels);
  });
  if (policies.length === 0) say('no NetworkPolicy of its own selects its pods');
}

function checkDefaultDeny(objects: readonly KubeObject[], report: Report): void {
  const namespaces = new Set(workloads(objects).map((w) => w.owner.metadata.namespace ?? ''));
  for (const namespace of namespaces) {
    const denies = objects.some((o) => {
      const spec = o.spec as { podSelector?: LabelSelector; policyTypes?: string[]; ingress?: unknown[]; egress?: unknown[] } | undefined;
      return (
        o.kind === 'NetworkPolicy' &&
        (o.metadata.namespace ?? '') === namespace &&
        selectsEverything(spec?.podSelector) &&
        !!spec?.policyTypes?.includes('Ingress') &&
        !!spec.policyTypes.includes('Egress') &&
        !spec.ingress?.length &&
        !spec.egress?.length
      );
    });
    if (!denies) report({ kind: 'Namespace', metadata: { name: namespace } }, 'companions', 'has no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)');
  }
}

function checkAutoscaler(autoscaler: KubeObject, objects: readonly KubeObject[], context: RuleContext, report: Report): void {
  const spec = (autoscaler.spec ?? {}) as { scaleTargetRef?: { kind?: string; name?: string }; minReplicas?: number; maxReplicas?: number };
  const say = (message: string): void => report(autoscaler, 'autoscaling', message);
  const target = objects.find(
    (o) => o.kind === spec.scaleTargetRef?.kind && o.metadata.name === spec.scaleTargetRef?.name && sameNamespace(o, autoscaler),
  );
  if (!target) return say(`scales ${spec.scaleTargetRef?.kind} ${spec.scaleTargetRef?.name}, which is not among the manifests`);
  const minReplicas = spec.minReplicas ?? 1;
  const maxReplicas = spec.maxReplicas ?? 0;
  if (minReplicas > maxReplicas) say(`minReplicas ${minReplicas} exceeds maxReplicas ${maxReplicas}`);

  const service = templateLabels(target)[SERVICE_LABEL];
  const consumed = service === undefined ? undefined : context.consumedTopics[service];
  if (!consumed) {
    say(`${target.kind} ${target.metadata.name} (${SERVICE_LABEL}=${service ?? '<unset>'}) has no entry in the consumed-topics table: say which topics it consumes`);
  } else if (consumed.length > 0) {
    const partitions = consumed.map((topic) => context.topics.find((t) => t.name === topic)?.partitions);
    const unknown = consumed.filter((_, index) => partitions[index] === undefined);
    if (unknown.length > 0) say(`${service} consumes ${unknown.join(', ')}, which libs/contracts does not define`);
    const ceiling = Math.min(...partitions.filter((p): p is number => p !== undefined));
    if (maxReplicas > ceiling) {
      say(`maxReplicas ${maxReplicas} exceeds ${ceiling}, the fewest partitions among the topics ${service} consumes (${consumed.join(', ')}): the extra consumers would sit idle`);
    }
  }

  const labels = templateLabels(target);
  for (const budget of objects.filter((o) => o.kind === 'PodDisruptionBudget' && sameNamespace(o, autoscaler))) {
    const budgetSpec = (budget.spec ?? {}) as { selector?: LabelSelector; minAvailable?: number | string; maxUnavailable?: number | string };
    if (!selectorMatches(budgetSpec.selector, labels)) continue;
    if (budgetSpec.maxUnavailable === 0 || budgetSpec.maxUnavailable === '0%') {
      report(budget, 'autoscaling', 'maxUnavailable 0 blocks every node drain');
    }
    if (typeof budgetSpec.minAvailable === 'number' && budgetSpec.minAvailable >= minReplicas) {
      report(budget, 'autoscaling', `minAvailable ${budgetSpec.minAvailable} with as few as ${minReplicas} replicas (HPA minReplicas) blocks every node drain`);
    }
  }
}

function checkMigrationJob(deployment: KubeObject, objects: readonly KubeObject[], report: Report): void {
  const service = templateLabels(deployment)[SERVICE_LABEL];
  const image = (deployment.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec?.containers?.[0]?.image;
  const migrations = objects.filter(
    (o) => o.kind === 'Job' && sameNamespace(o, deployment) && o.metadata.labels?.['app.kubernetes.io/component'] === 'migration' && o.metadata.labels[SERVICE_LABEL] === service,
  );
  if (migrations.length === 0) return report(deployment, 'migration', `no migration Job (labels ${SERVICE_LABEL}=${service}, app.kubernetes.io/component=migration)`);
  for (const job of migrations) {
    const container = (job.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec?.containers?.[0];
    if (container?.image !== image) report(job, 'migration', `runs image ${container?.image}, not ${image} of Deployment ${deployment.metadata.name}`);
    if (!container?.command?.join(' ').includes('dist/tools/migrate.js')) report(job, 'migration', 'does not run node dist/tools/migrate.js');
    if (container?.env?.find((variable) => variable.name === 'SERVICE')?.value !== service) report(job, 'migration', `does not set SERVICE=${service}`);
  }
}

function checkKafkaTopics(objects: readonly KubeObject[], context: RuleContext, report: Report): void {
  const topics = objects.filter((o) => o.kind === 'KafkaTopic');
  const nameOf = (topic: KubeObject): string => ((topic.spec as { topicName?: string } | undefined)?.topicName ?? topic.metadata.name ?? '');
  for (const expected of context.topics) {
    const found = topics.filter((topic) => nameOf(topic) === expected.name);
    if (found.length === 0) {
      report({ kind: 'KafkaTopic', metadata: { name: expected.name } }, 'kafka-topics', `missing: libs/contracts defines it with ${expected.partitions} partitions`);
    }
    if (found.length > 1) report(found[1], 'kafka-topics', `topic ${expected.name} is declared ${found.length} times`);
  }
  for (const topic of topics) {
    const spec = (topic.spec ?? {}) as { partitions?: number; replicas?: number; config?: Record<string, unknown> };
    const expected = context.topics.find((t) => t.name === nameOf(topic));
    if (!expected) {
      report(topic, 'kafka-topics', 'is not a topic of libs/contracts/src/topics.ts');
      continue;
    }
    if (spec.partitions !== expected.partitions) report(topic, 'kafka-topics', `has ${spec.partitions} partitions; libs/contracts says ${expected.partitions}`);
    if (context.production) {
      if (spec.replicas !== PRODUCTION_TOPIC_REPLICAS) report(topic, 'kafka-topics', `has ${spec.replicas} replicas; production needs ${PRODUCTION_TOPIC_REPLICAS}`);
      const minInsync = spec.config?.['min.insync.replicas'] as number | string | undefined;
      if (Number(minInsync) !== PRODUCTION_MIN_INSYNC_REPLICAS) {
        report(topic, 'kafka-topics', `has min.insync.replicas ${minInsync ?? '<unset>'}; production needs ${PRODUCTION_MIN_INSYNC_REPLICAS}`);
      }
    }
  }
}
