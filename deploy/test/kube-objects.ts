/**
 * Rendered Kubernetes objects as plain data, and the few questions every check asks of them:
 * which pod templates an object runs, which labels a selector matches, how to name an object
 * in a message.
 */
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';

export type ObjectMeta = NonNullable<IDeployment['metadata']>;
export type LabelSelector = NonNullable<IDeployment['spec']>['selector'];
export type PodTemplate = IPodTemplateSpec;

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
  /** Which rule, e.g. `probes`, `resources`, `security` (see manifest-rules.ts). */
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

export interface Workload {
  owner: KubeObject;
  template: PodTemplate;
  /** Serves traffic until stopped (Deployment, StatefulSet, DaemonSet), as opposed to a Job that runs to completion. */
  longRunning: boolean;
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
