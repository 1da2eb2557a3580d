import { describeWorkerBrokers, WORKER_BROKERS_VARIABLE, workerBrokerEnv } from './worker-kafka';

const brokers = describeWorkerBrokers([
  { KAFKA_BROKERS: '127.0.0.1:40001', TEST_KAFKA_PID: '11', TEST_KAFKA_HOME: '/runs/a', TEST_KAFKA_USERS_FILE: '/runs/a/users.json' },
  { KAFKA_BROKERS: '127.0.0.1:40003', TEST_KAFKA_PID: '12', TEST_KAFKA_HOME: '/runs/b', TEST_KAFKA_USERS_FILE: '/runs/b/users.json' },
]);

describe('workerBrokerEnv', () => {
  it('points each worker at its own broker: address, pid, folder and users', () => {
    expect(workerBrokerEnv({ [WORKER_BROKERS_VARIABLE]: brokers, JEST_WORKER_ID: '1' })).toEqual({
      KAFKA_BROKERS: '127.0.0.1:40001',
      TEST_KAFKA_PID: '11',
      TEST_KAFKA_HOME: '/runs/a',
      TEST_KAFKA_USERS_FILE: '/runs/a/users.json',
    });
    expect(workerBrokerEnv({ [WORKER_BROKERS_VARIABLE]: brokers, JEST_WORKER_ID: '2' })).toEqual({
      KAFKA_BROKERS: '127.0.0.1:40003',
      TEST_KAFKA_PID: '12',
      TEST_KAFKA_HOME: '/runs/b',
      TEST_KAFKA_USERS_FILE: '/runs/b/users.json',
    });
  });

  it('leaves the environment alone when the run has one broker', () => {
    expect(workerBrokerEnv({ KAFKA_BROKERS: '127.0.0.1:40001', JEST_WORKER_ID: '2' })).toEqual({});
  });

  it('names only what the broker has (no users without SASL)', () => {
    const plain = describeWorkerBrokers([{ KAFKA_BROKERS: 'a:1' }, { KAFKA_BROKERS: 'b:1' }]);
    expect(workerBrokerEnv({ [WORKER_BROKERS_VARIABLE]: plain, JEST_WORKER_ID: '2' })).toEqual({ KAFKA_BROKERS: 'b:1' });
  });

  it('refuses a worker without a broker of its own rather than let it share another', () => {
    expect(() => workerBrokerEnv({ [WORKER_BROKERS_VARIABLE]: brokers, JEST_WORKER_ID: '3' })).toThrow(/worker 3 has no Kafka broker of its own/);
  });
});
