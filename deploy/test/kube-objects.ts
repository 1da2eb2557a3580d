/**
 * Rendered Kubernetes objects as plain data, and the few questions every check asks of them:
 * which pod templates an object runs, which labels a selector matches, how to name an object
 * in a message, how a rule reports what it finds.
 */
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';

export type ObjectMeta = NonNullable<IDeployment['metadata']>;
export type LabelSelector = NonNullable<IDeployment['spec']>['selector'];
export type PodTemplate = IPodTemplateSpec;
export type PodSpec = IPodSpec;
export type Container = IContainer;

/** Label that names the service a workload belongs to. */
export const SERVICE_LABEL = 'app.kubernetes.io/name';

/** One object of `kubectl kustomize` output, of any kind (custom resources included). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A problem found in the manifests, tied to the object at fault. */
export interface Finding {
  /** `Kind namespace/name`, e.g. `Deployment pay/wallet`. */
  object: string;
  /** Which rule, e.g. `probes`, `resources`, `security` (manifest-rules.ts lists them all). */
  rule: string;
  message: string;
}

export function describeObject(object: Pick<KubeObject, 'kind' | 'metadata'>): string {
  const { name, namespace } = object.metadata ?? {};
  return `${object.kind} ${namespace ? `${namespace}/` : ''}${name ?? '<no name>'}`;
}

export function formatFinding(finding: Finding): string {
  return `${finding.object} [${finding.rule}]: ${finding.message}`;
}

/** Reports a problem of an object; the rule it belongs to is the one findingsOf was given. */
export type Say = (object: Pick<KubeObject, 'kind' | 'metadata'>, message: string) => void;

/** Runs a check that reports under one rule, and returns what it reported. */
export function findingsOf(rule: string, check: (say: Say) => void): Finding[] {
  const findings: Finding[] = [];
  check((object, message) => findings.push({ object: describeObject(object), rule, message }));
  return findings;
}

export function sameNamespace(a: Pick<KubeObject, 'metadata'>, b: Pick<KubeObject, 'metadata'>): boolean {
  return (a.metadata.namespace ?? '') === (b.metadata.namespace ?? '');
}

/** The objects of a kind in the namespace of another object. */
export function inNamespaceOf(objects: readonly KubeObject[], owner: KubeObject, kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind && sameNamespace(o, owner));
}

/** A ConfigMap's data (undefined for no ConfigMap). */
export function dataOf(configMap: KubeObject | undefined): Record<string, string> | undefined {
  return configMap && ((configMap.data ?? {}) as Record<string, string>);
}

/**
 * ConfigMaps the deployer creates (docs/deploy.md, "ConfigMaps you create"): settings only the
 * cluster knows, which the manifests reference and do not hold. Each key with a well-formed sample,
 * so that the rules see what a deployer would write.
 */
export const DEPLOY_TIME_CONFIG_MAPS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'pay-hub-proxies': { HUB_TRUSTED_PROXIES: '10.42.0.0/16' },
};

/**
 * The data of each ConfigMap in the namespace of another object, by name; of two with one name, the
 * last (as `kubectl apply` would leave it); then those the deployer creates (DEPLOY_TIME_CONFIG_MAPS).
 */
export function configMapsOf(objects: readonly KubeObject[], owner: KubeObject): Map<string, Record<string, string>> {
  const configMaps = new Map(inNamespaceOf(objects, owner, 'ConfigMap').map((o) => [o.metadata.name ?? '', dataOf(o)!]));
  for (const [name, data] of Object.entries(DEPLOY_TIME_CONFIG_MAPS)) if (!configMaps.has(name)) configMaps.set(name, { ...data });
  return configMaps;
}

/** The labels of a workload's pod template. */
export function templateLabels(workload: KubeObject): Record<string, string> {
  return (workload.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template?.metadata?.labels ?? {};
}

export interface Workload {
  owner: KubeObject;
  template: PodTemplate;
  /** Serves traffic until stopped (Deployment, StatefulSet, DaemonSet), as opposed to a Job that runs to completion. */
  longRunning: boolean;
}

/** A workload's pod spec (an empty one when its template has none). */
export function podSpecOf(workload: Workload): PodSpec {
  return workload.template.spec ?? { containers: [] };
}

/** Every container of every workload, init containers first (main: false), with its workload and pod. */
export function workloadContainers(objects: readonly KubeObject[]): Array<Workload & { pod: PodSpec; container: Container; main: boolean; where: string }> {
  return workloads(objects).flatMap((workload) => {
    const pod = podSpecOf(workload);
    return [
      ...(pod.initContainers ?? []).map((container) => ({ container, main: false })),
      ...(pod.containers ?? []).map((container) => ({ container, main: true })),
    ].map(({ container, main }) => ({ ...workload, pod, container, main, where: `container ${container.name}` }));
  });
}

const LONG_RUNNING_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

/** Every pod template in the objects, with the object that owns it. */
export function workloads(objects: readonly KubeObject[]): Workload[] {
  const found: Workload[] = [];
  for (const owner of objects) {
    const spec = owner.spec as { template?: PodTemplate; jobTemplate?: { spec?: { template?: PodTemplate } } } | undefined;
    if (LONG_RUNNING_KINDS.has(owner.kind)) {
      found.push({ owner, template: spec?.template ?? {}, longRunning: true });
    } else if (owner.kind === 'Job') {
      found.push({ owner, template: spec?.template ?? {}, longRunning: false });
    } else if (owner.kind === 'CronJob') {
      const jobSpec = spec?.jobTemplate?.spec;
      found.push({ owner, template: jobSpec?.template ?? {}, longRunning: false });
    } else if (owner.kind === 'Pod') {
      found.push({ owner, template: { metadata: owner.metadata, spec: owner.spec as PodTemplate['spec'] }, longRunning: true });
    }
  }
  return found;
}

/** Whether a label selector matches these labels (matchLabels and matchExpressions, as the API server does). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const value = have[expression.key];
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A selector with no terms selects every pod of its namespace (as `podSelector: {}` does). */
export function selectsEverything(selector: LabelSelector | undefined): boolean {
  return !!selector && Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}
