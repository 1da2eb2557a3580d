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

export type { AclPlan, KafkaAcl } from '@pay/local-infra';
export { applyAcls, kafkaAclOf, planAcls } from '@pay/local-infra';

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
