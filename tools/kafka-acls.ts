/**
 * `npm run kafka:acls`: makes a cluster's ACLs those of libs/contracts topic-access — one ALLOW
 * rule per topic and operation each principal needs, nothing else. Adds what is missing and
 * removes ALLOW rules of these principals that the list no longer has. The cluster is
 * KAFKA_BROKERS; the operator signs in with KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD (a super
 * user; SCRAM-SHA-512 unless KAFKA_SASL_MECHANISM says otherwise). `--dry-run` prints the plan.
 * In Kubernetes the Strimzi User Operator does the same from deploy/k8s/base/kafka/users.yaml.
 */
import type { SASLOptions } from 'kafkajs';
import { AclOperationTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } from 'kafkajs';
import { TOPIC_ACCESS } from '@pay/contracts';
import type { KafkaAcl } from '@pay/local-infra';
import { applyAcls, planAcls } from '@pay/local-infra';
import { installRequestQueueTimerFix, kafkaSaslFromEnv } from '@pay/messaging';
import { parseCommandLine } from './command-line';
import { kafkaConnectionFromEnv } from './kafka-connection';

export type { AclPlan, KafkaAcl } from '@pay/local-infra';
export { applyAcls, kafkaAclOf, planAcls } from '@pay/local-infra';

const USAGE = 'usage: npm run kafka:acls [-- --dry-run]';

const describeAcl = (acl: KafkaAcl): string =>
  `${acl.principal} ${AclOperationTypes[acl.operation]} ${AclResourceTypes[acl.resourceType]} ${acl.resourceName}${acl.resourcePatternType === ResourcePatternTypes.PREFIXED ? '*' : ''}`;

async function main(): Promise<void> {
  const dryRun = parseCommandLine(process.argv.slice(2), { 'dry-run': { type: 'boolean' } }, USAGE)['dry-run'] === true;
  const { brokers, tls } = kafkaConnectionFromEnv(process.env);
  const sasl = kafkaSaslFromEnv(process.env, 'scram-sha-512');
  if (!sasl) throw new Error("KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must name a super user of the cluster (ACLs need the authorizer's admin)");
  installRequestQueueTimerFix();
  const admin = new Kafka({
    clientId: 'kafka-acls',
    brokers,
    sasl: sasl as SASLOptions,
    ssl: tls,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const plan = dryRun ? await planAcls(admin) : await applyAcls(admin);
    const verb = dryRun ? 'would' : '';
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
