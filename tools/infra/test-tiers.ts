/**
 * What the test tiers' global set-up and the outage test start and stop (`@pay/local-infra/test-tiers`):
 * a broker of the run's own from the jars, or containers where a Docker engine answers. Kept out of
 * `@pay/local-infra`'s index and out of the build (tsconfig.build.json leaves out tools/infra/test-*.ts),
 * so the services' image does not hold it.
 */
export type { TestKafka, TestKafkaOptions } from './test-kafka';
export { killTestKafka, restartTestKafka, startTestKafka } from './test-kafka';
export { dockerEngineAnswers, startKafkaContainer, startPostgresContainer } from './test-containers';
