/** Local infrastructure (Kafka from its jars, PostgreSQL) for `npm start`, tests and benches (`@pay/local-infra`). */
export type { Infrastructure } from './up';
export { infraUp } from './up';
export type { KafkaInfo } from './kafka';
export { DEV_KAFKA_USERS_FILE, ensureKafka, ensureTopics, stopKafka } from './kafka';
export type { BrokerSecurity, ScramUser } from './kafka';
export { brokerFiles, isKafkaBroker, KAFKA_HOST, scramClient, startPrivateBroker } from './kafka';
export { freePortPair } from './kafka';
export { signal, waitForExit } from './local-process';
export type { PostgresInfo } from './postgres';
export { ensureDatabase, ensurePostgres, LOCAL_DATABASE_URL } from './postgres';
export type { AclPlan, KafkaAcl } from './kafka-acls';
export { applyAcls, grantAcls, kafkaAclOf, planAcls } from './kafka-acls';
