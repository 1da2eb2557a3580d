/**
 * Validates rendered objects against the Kubernetes API schemas (kubernetes-models), checks
 * metadata the way the API server does, and validates the custom resources kubernetes-models
 * has no class for (Strimzi KafkaTopic and KafkaUser) by hand. An object of any other kind is reported: the
 * test should know every kind it lets through.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Finding, KubeObject } from './kube-objects';
import { describeObject } from './kube-objects';

const WORKER = join(__dirname, 'kube-schema-worker.mjs');

interface WorkerResult {
  model: boolean;
  errors?: string[];
}

/** Runs every object through its kubernetes-models class (in a child Node process: the package is ESM only). */
function validateWithModels(objects: readonly KubeObject[]): WorkerResult[] {
  const output = execFileSync(process.execPath, [WORKER], { input: JSON.stringify(objects), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const results = JSON.parse(output) as WorkerResult[];
  if (results.length !== objects.length) throw new Error(`${WORKER} answered for ${results.length} of ${objects.length} objects`);
  return results;
}

type CustomValidator = (object: KubeObject) => string[];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isPositiveInteger = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1;

/** The KafkaTopic CRD of Strimzi (kafka.strimzi.io/v1beta2), as far as we use it. */
function validateKafkaTopic(object: KubeObject): string[] {
  const errors: string[] = [];
  if (!object.metadata.labels?.['strimzi.io/cluster']) errors.push('/metadata/labels must name the Kafka cluster in strimzi.io/cluster');
  const spec = object.spec;
  if (!isRecord(spec)) return [...errors, '/spec must be an object'];
  for (const field of Object.keys(spec)) {
    if (!['partitions', 'replicas', 'config', 'topicName'].includes(field)) errors.push(`/spec/${field} is not a field of KafkaTopic`);
  }
  if (!isPositiveInteger(spec.partitions)) errors.push('/spec/partitions must be an integer of at least 1');
  if (!isPositiveInteger(spec.replicas) || spec.replicas > 32767) errors.push('/spec/replicas must be an integer from 1 to 32767');
  const topicName = spec.topicName ?? object.metadata.name;
  if (typeof topicName !== 'string' || !/^[a-zA-Z0-9._-]{1,249}$/.test(topicName)) {
    errors.push('/spec/topicName (or /metadata/name) must be a Kafka topic name: 1 to 249 of a-z, A-Z, 0-9, ".", "_" and "-"');
  }
  if (spec.config !== undefined) {
    if (!isRecord(spec.config)) {
      errors.push('/spec/config must be an object');
    } else {
      for (const [key, value] of Object.entries(spec.config)) {
        if (!['string', 'number', 'boolean'].includes(typeof value)) errors.push(`/spec/config/${key} must be a string, number or boolean`);
      }
      const minInsync = spec.config['min.insync.replicas'];
      if (minInsync !== undefined) {
        const min = Number(minInsync);
        if (!Number.isInteger(min) || min < 1) errors.push('/spec/config/min.insync.replicas must be an integer of at least 1');
        else if (isPositiveInteger(spec.replicas) && min > spec.replicas) {
          errors.push(`/spec/config/min.insync.replicas (${min}) exceeds /spec/replicas (${spec.replicas}): every acks=all write would fail`);
        }
      }
    }
  }
  return errors;
}

/** The KafkaUser CRD of Strimzi (kafka.strimzi.io/v1beta2), as far as we use it: SCRAM and simple ACLs. */
function validateKafkaUser(object: KubeObject): string[] {
  const errors: string[] = [];
  if (!object.metadata.labels?.['strimzi.io/cluster']) errors.push('/metadata/labels must name the Kafka cluster in strimzi.io/cluster');
  const spec = object.spec;
  if (!isRecord(spec)) return [...errors, '/spec must be an object'];
  for (const field of Object.keys(spec)) {
    if (!['authentication', 'authorization', 'quotas', 'template'].includes(field)) errors.push(`/spec/${field} is not a field of KafkaUser`);
  }
  const authentication = spec.authentication;
  if (authentication !== undefined && (!isRecord(authentication) || !['tls', 'tls-external', 'scram-sha-512'].includes(authentication.type as string)))
    errors.push('/spec/authentication/type must be tls, tls-external or scram-sha-512');
  const authorization = spec.authorization;
  if (authorization !== undefined) {
    if (!isRecord(authorization) || authorization.type !== 'simple') return [...errors, '/spec/authorization/type must be simple'];
    const acls = authorization.acls;
    if (!Array.isArray(acls)) return [...errors, '/spec/authorization/acls must be a list'];
    acls.forEach((acl: unknown, i) => {
      const at = `/spec/authorization/acls/${i}`;
      if (!isRecord(acl) || !isRecord(acl.resource)) return void errors.push(`${at}/resource must be an object`);
      if (!['topic', 'group', 'cluster', 'transactionalId'].includes(acl.resource.type as string))
        errors.push(`${at}/resource/type must be topic, group, cluster or transactionalId`);
      if (acl.resource.type !== 'cluster' && typeof acl.resource.name !== 'string') errors.push(`${at}/resource/name must be a string`);
      if (acl.resource.patternType !== undefined && !['literal', 'prefix'].includes(acl.resource.patternType as string))
        errors.push(`${at}/resource/patternType must be literal or prefix`);
      const operations = [
        'Read',
        'Write',
        'Create',
        'Delete',
        'Alter',
        'Describe',
        'ClusterAction',
        'AlterConfigs',
        'DescribeConfigs',
        'IdempotentWrite',
        'All',
      ];
      if (!Array.isArray(acl.operations) || acl.operations.length === 0 || !acl.operations.every((op: unknown) => operations.includes(op as string)))
        errors.push(`${at}/operations must be a non-empty list of ${operations.join(', ')}`);
      if (acl.type !== undefined && !['allow', 'deny'].includes(acl.type as string)) errors.push(`${at}/type must be allow or deny`);
    });
  }
  return errors;
}

/** Custom resources, by `apiVersion kind`. */
export const CUSTOM_RESOURCE_VALIDATORS: Readonly<Record<string, CustomValidator>> = {
  'kafka.strimzi.io/v1beta2 KafkaTopic': validateKafkaTopic,
  'kafka.strimzi.io/v1beta2 KafkaUser': validateKafkaUser,
};

const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'IngressClass',
  'MutatingWebhookConfiguration',
  'PersistentVolume',
  'PriorityClass',
  'StorageClass',
  'ValidatingWebhookConfiguration',
]);

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Longest name per kind, where the API server (or the names it derives) allows less than 253. */
const NAME_LIMITS: Readonly<Record<string, { pattern: RegExp; max: number; what: string }>> = {
  Namespace: { pattern: DNS_LABEL, max: 63, what: 'a DNS label' },
  Service: { pattern: DNS_1035_LABEL, max: 63, what: 'a DNS-1035 label (starts with a letter)' },
  // The Job controller puts the name in a label; a CronJob's Jobs add 11 characters to its name.
  Job: { pattern: DNS_SUBDOMAIN, max: 63, what: 'a DNS subdomain' },
  CronJob: { pattern: DNS_SUBDOMAIN, max: 52, what: 'a DNS subdomain' },
};

function metadataErrors(object: KubeObject): string[] {
  const errors: string[] = [];
  const metadata = object.metadata;
  if (!isRecord(metadata)) return ['/metadata is missing'];
  const name = metadata.name;
  const limit = NAME_LIMITS[object.kind] ?? { pattern: DNS_SUBDOMAIN, max: 253, what: 'a DNS subdomain' };
  if (typeof name !== 'string' || name.length === 0) errors.push('/metadata/name is missing');
  else if (name.length > limit.max || !limit.pattern.test(name))
    errors.push(`/metadata/name "${name}" must be ${limit.what} of at most ${limit.max} characters`);
  if (CLUSTER_SCOPED_KINDS.has(object.kind)) {
    if (metadata.namespace) errors.push(`/metadata/namespace must be empty: ${object.kind} is cluster-scoped`);
  } else if (!metadata.namespace) {
    errors.push('/metadata/namespace is missing (the overlay sets it)');
  }
  for (const [field, map] of [
    ['labels', metadata.labels],
    ['annotations', metadata.annotations],
  ] as const) {
    for (const [key, value] of Object.entries(map ?? {})) {
      const slash = key.lastIndexOf('/');
      const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
      const local = key.slice(slash + 1);
      if ((prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) || local.length > 63 || !LABEL_NAME.test(local)) {
        errors.push(`/metadata/${field}: "${key}" is not a valid key`);
      }
      if (typeof value !== 'string') errors.push(`/metadata/${field}/${key} must be a string`);
      else if (field === 'labels' && value !== '' && (value.length > 63 || !LABEL_NAME.test(value)))
        errors.push(`/metadata/labels/${key}: "${value}" is not a valid label value`);
    }
  }
  return errors;
}

/** Schema and metadata problems of every object, as findings of rule `schema`. */
export function validateSchemas(objects: readonly KubeObject[]): Finding[] {
  const results = validateWithModels(objects);
  const findings: Finding[] = [];
  objects.forEach((object, index) => {
    const report = (message: string): void => {
      findings.push({ object: describeObject(object), rule: 'schema', message });
    };
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
      report('apiVersion and kind are required');
      return;
    }
    metadataErrors(object).forEach(report);
    const result = results[index];
    if (result?.model) {
      result.errors?.forEach(report);
      return;
    }
    const custom = CUSTOM_RESOURCE_VALIDATORS[`${object.apiVersion} ${object.kind}`];
    if (custom) custom(object).forEach(report);
    else report(`no schema for ${object.apiVersion} ${object.kind}: kubernetes-models has no class for it and deploy/test/kube-schema.ts no validator`);
  });
  return findings;
}
