import NodeEnvironment from 'jest-environment-node';
import { workerBrokerEnv } from './worker-kafka';

/**
 * The test environment of the integration, end-to-end and browser tiers: Jest's Node environment,
 * with this worker's own Kafka broker (worker-kafka.ts) put in the worker's real process.env first.
 * Not in a set-up file: those run in the test's sandbox, whose process.env is a copy, and a process
 * a test starts without naming its environment inherits the real one.
 */
export default class WorkerKafkaEnvironment extends NodeEnvironment {
  constructor(...args: ConstructorParameters<typeof NodeEnvironment>) {
    Object.assign(process.env, workerBrokerEnv(process.env));
    super(...args);
  }
}
