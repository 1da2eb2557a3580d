/**
 * Makes a cluster's ACLs those of libs/contracts topic-access (or of the bindings given): one ALLOW
 * rule per topic and operation each principal needs, nothing else. Used by `npm run kafka:acls`
 * (tools/kafka-acls.ts), the test tiers' broker (test-kafka.ts) and `npm start`'s (kafka.ts).
 */
import type { Admin } from 'kafkajs';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
// The entry that imports no decorators: the test tiers' global set-up loads this file.
import type { AclBinding } from '@pay/contracts/topic-access';
import { aclBindings } from '@pay/contracts/topic-access';
import { sleep } from './local-process';

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

async function existingAcls(admin: Admin): Promise<KafkaAcl[]> {
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
  return existing;
}

/** What to add and what to remove so that the principals of `bindings` have exactly those rules. */
export async function planAcls(admin: Admin, bindings: readonly AclBinding[] = aclBindings()): Promise<AclPlan> {
  const wanted = new Map(bindings.map((binding) => [keyOf(kafkaAclOf(binding)), kafkaAclOf(binding)]));
  const principals = new Set([...wanted.values()].map((acl) => acl.principal));
  const existing = await existingAcls(admin);
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

/**
 * Adds the rules of `bindings` that are missing, removing none (a test's grants for its own topics
 * and groups, next to the list's), and returns once the broker's authorizer answers with all of
 * them: the controller applies new ACLs to the broker a moment after it accepts them.
 */
export async function grantAcls(admin: Admin, bindings: readonly AclBinding[], timeoutMs = 30_000): Promise<void> {
  const wanted = bindings.map(kafkaAclOf);
  const missing = async (): Promise<KafkaAcl[]> => {
    const have = new Set((await existingAcls(admin)).map(keyOf));
    return wanted.filter((acl) => !have.has(keyOf(acl)));
  };
  const toCreate = await missing();
  if (toCreate.length === 0) return;
  await admin.createAcls({ acl: toCreate });
  const deadline = Date.now() + timeoutMs;
  for (let left = toCreate; left.length > 0; left = await missing()) {
    if (Date.now() > deadline)
      throw new Error(`${left.length} ACL(s) not in force after ${timeoutMs / 1000} s, e.g. ${left[0]?.principal} on ${left[0]?.resourceName}`);
    await sleep(100);
  }
}
