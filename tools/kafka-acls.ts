/**
 * `npm run kafka:acls`: makes a cluster's ACLs those of libs/contracts topic-access — one ALLOW
 * rule per topic and operation each principal needs, nothing else. Adds what is missing and
 * removes ALLOW rules of these principals that the list no longer has. The cluster is
 * KAFKA_BROKERS; the operator signs in with KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD (a super
 * user; SCRAM-SHA-512 unless KAFKA_SASL_MECHANISM says otherwise). `--dry-run` prints the plan.
 * In Kubernetes the Strimzi User Operator does the same from deploy/k8s/base/kafka/users.yaml.
 */
import type { Admin, SASLOptions } from 'kafkajs';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } from 'kafkajs';
import type { AclBinding } from '@pay/contracts';
import { aclBindings, TOPIC_ACCESS } from '@pay/contracts';
import { installRequestQueueTimerFix, kafkaSaslFromEnv } from '@pay/messaging';

const OPERATIONS = { read: AclOperationTypes.READ, write: AclOperationTypes.WRITE } as const;
const RESOURCES = { topic: AclResourceTypes.TOPIC, group: AclResourceTypes.GROUP } as const;
const PATTERNS = { literal: ResourcePatternTypes.LITERAL, prefixed: ResourcePatternTypes.PREFIXED } as const;

/** A rule as kafkajs creates, describes and deletes it. */
export interface KafkaAcl {
  resourceType: AclResourceTypes;
  resourceName: string;
  resourcePatternType: ResourcePatternTypes;
  principal: string;
  host: string;
  operation: AclOperationTypes;
  permissionType: AclPermissionTypes;
}

export function kafkaAclOf(binding: AclBinding): KafkaAcl {
  return {
    resourceType: RESOURCES[binding.resource],
    resourceName: binding.name,
    resourcePatternType: PATTERNS[binding.pattern],
    principal: `User:${binding.user}`,
    host: '*',
    operation: OPERATIONS[binding.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

const keyOf = (acl: KafkaAcl): string =>
  [acl.resourceType, acl.resourceName, acl.resourcePatternType, acl.principal, acl.host, acl.operation, acl.permissionType].join('|');

export interface AclPlan {
  create: KafkaAcl[];
  remove: KafkaAcl[];
}

/** What to add and what to remove so that the principals of `bindings` have exactly those rules. */
export async function planAcls(admin: Admin, bindings: readonly AclBinding[] = aclBindings()): Promise<AclPlan> {
  const wanted = new Map(bindings.map((binding) => [keyOf(kafkaAclOf(binding)), kafkaAclOf(binding)]));
  const principals = new Set([...wanted.values()].map((acl) => acl.principal));
  const existing: KafkaAcl[] = [];
  const described = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  for (const resource of described.resources) {
    for (const acl of resource.acls) {
      existing.push({
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
        resourcePatternType: resource.resourcePatternType,
        principal: acl.principal,
        host: acl.host,
        operation: acl.operation,
        permissionType: acl.permissionType,
      });
    }
  }
  const have = new Set(existing.map(keyOf));
  return {
    create: [...wanted.values()].filter((acl) => !have.has(keyOf(acl))),
    // Only our principals' ALLOW rules are ours to remove; DENY rules an operator added stay.
    remove: existing.filter((acl) => principals.has(acl.principal) && acl.permissionType === AclPermissionTypes.ALLOW && !wanted.has(keyOf(acl))),
  };
}

export async function applyAcls(admin: Admin, bindings: readonly AclBinding[] = aclBindings()): Promise<AclPlan> {
  const plan = await planAcls(admin, bindings);
  if (plan.create.length > 0) await admin.createAcls({ acl: plan.create });
  if (plan.remove.length > 0) await admin.deleteAcls({ filters: plan.remove });
  return plan;
}

const describeAcl = (acl: KafkaAcl): string =>
  `${acl.principal} ${AclOperationTypes[acl.operation]} ${AclResourceTypes[acl.resourceType]} ${acl.resourceName}${acl.resourcePatternType === ResourcePatternTypes.PREFIXED ? '*' : ''}`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== '--dry-run');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}; usage: npm run kafka:acls [-- --dry-run]`);
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (!brokers.every((broker) => /^[A-Za-z0-9.-]+:\d{1,5}$/.test(broker))) throw new Error('KAFKA_BROKERS must be a comma-separated list of host:port');
  const sasl = kafkaSaslFromEnv(process.env, 'scram-sha-512');
  if (!sasl) throw new Error("KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must name a super user of the cluster (ACLs need the authorizer's admin)");
  installRequestQueueTimerFix();
  const admin = new Kafka({
    clientId: 'kafka-acls',
    brokers,
    sasl: sasl as SASLOptions,
    ssl: process.env.KAFKA_TLS === 'true',
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const plan = args.includes('--dry-run') ? await planAcls(admin) : await applyAcls(admin);
    const verb = args.includes('--dry-run') ? 'would' : '';
    for (const acl of plan.create) console.log(`${verb ? 'would add' : 'added'}   ${describeAcl(acl)}`);
    for (const acl of plan.remove) console.log(`${verb ? 'would remove' : 'removed'} ${describeAcl(acl)}`);
    console.log(`${TOPIC_ACCESS.length} principals; ${plan.create.length} rules ${verb || ''} added, ${plan.remove.length} removed`.replace('  ', ' '));
  } finally {
    await admin.disconnect();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`kafka:acls: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
