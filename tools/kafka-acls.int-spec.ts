import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Consumer, Kafka as KafkaClient } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from '@pay/testing';
import { aclBindings, deadLetterTopicOf, Topics, TOPIC_ACCESS } from '@pay/contracts';
import type { BrokerSecurity, ScramUser } from '@pay/local-infra';
import { brokerFiles, ensureTopics, freePortPair, isKafkaBroker, KAFKA_HOST, scramClient, signal, startPrivateBroker, waitForExit } from '@pay/local-infra';
import { applyAcls, planAcls } from './kafka-acls';

/**
 * A broker that authenticates (SCRAM) and authorizes (ACLs) as production's does, with the ACLs of
 * libs/contracts topic-access applied by `npm run kafka:acls`'s code: each principal may write
 * exactly its topics and join exactly its groups.
 */
describe('Kafka principals and ACLs (a broker with SASL/SCRAM and the StandardAuthorizer)', () => {
  const secret = (): string =>
    randomBytes(18)
      .toString('base64url')
      .replace(/[^A-Za-z0-9]/g, 'x');
  const security: BrokerSecurity = {
    admin: { name: 'admin', password: secret() },
    users: TOPIC_ACCESS.map((principal) => ({ name: principal.user, password: secret() })),
  };
  const userOf = (name: string): ScramUser => security.users.find((user) => user.name === name)!;
  let home = '';
  let pid = 0;
  let brokers: string[] = [];
  let admin: Admin;
  const clients: Array<{ disconnect(): Promise<void> }> = [];

  /** What a kafkajs error says: its protocol error type where it keeps one, and its message. */
  const failureOf = (error: unknown): string =>
    typeof error === 'string' ? error : `${(error as { type?: string }).type ?? ''} ${(error as { message?: string }).message ?? ''}`;

  const kafkaAs = (user: ScramUser): KafkaClient =>
    new Kafka({ clientId: `acl-test-${user.name}`, brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 }, ...scramClient(user) });

  /** Whether `user` may write one message to `topic`: the broker's answer, not a guess. */
  async function mayWrite(user: ScramUser, topic: string): Promise<boolean | string> {
    const producer = kafkaAs(user).producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    clients.push(producer);
    try {
      await producer.send({ topic, messages: [{ key: 'k', value: 'acl-probe' }], acks: -1 });
      return true;
    } catch (error) {
      const { type, message } = error as { type?: string; message: string };
      return type === 'TOPIC_AUTHORIZATION_FAILED' || /Topic authorization failed/.test(message) ? false : (type ?? message);
    }
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kafka-acls-'));
    const port = await freePortPair();
    brokers = [`${KAFKA_HOST}:${port}`];
    const log = (line: string): void => void process.stderr.write(`[acl broker] ${line}\n`);
    pid = await startPrivateBroker(brokerFiles(home), port, log, () => Promise.resolve(), security);
    await ensureTopics(brokers, log, security);
    admin = kafkaAs(security.admin).admin();
    await admin.connect();
    await applyAcls(admin);
    // The controller applies new ACLs to the broker's authorizer a moment later: wait for a granted write to pass.
    await waitFor(
      () => mayWrite(userOf('payment-orchestration'), Topics.walletCommands),
      (may) => may === true,
      { what: 'the ACLs to reach the broker', timeoutMs: 60_000 },
    );
  }, 300_000);

  afterAll(async () => {
    for (const client of clients) await client.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    if (pid && isKafkaBroker(pid)) {
      signal(pid, 'SIGTERM');
      if (!(await waitForExit(pid, isKafkaBroker, 20_000))) signal(pid, 'SIGKILL');
    }
    if (home) await rm(home, { recursive: true, force: true });
  }, 60_000);

  it('lets only payment-orchestration write funds commands to the wallet', async () => {
    const writers: string[] = [];
    for (const principal of TOPIC_ACCESS) {
      const answer = await mayWrite(userOf(principal.user), Topics.walletCommands);
      if (answer === true) writers.push(principal.user);
      else expect(answer).toBe(false); // refused by the authorizer, not failing for another reason
    }
    expect(writers).toEqual(['payment-orchestration']);
  });

  it('lets each principal write its own topics and dead letters, and no other topic', async () => {
    for (const principal of TOPIC_ACCESS) {
      const own = new Set<string>([...principal.writes, ...principal.reads.map(deadLetterTopicOf)]);
      for (const topic of Object.values(Topics)) {
        expect({ user: principal.user, topic, may: await mayWrite(userOf(principal.user), topic) }).toEqual({
          user: principal.user,
          topic,
          may: own.has(topic),
        });
      }
    }
  }, 180_000);

  it('lets a service read its topics in its own consumer groups only', async () => {
    const history = userOf('history-projection');
    expect(await mayWrite(userOf('payment-orchestration'), Topics.paymentEvents)).toBe(true);
    const received: string[] = [];
    const own: Consumer = kafkaAs(history).consumer({ groupId: 'history-projection.acl-test', maxWaitTimeInMs: 200, retry: { retries: 0 } });
    clients.push(own);
    await own.connect();
    await own.subscribe({ topics: [Topics.paymentEvents], fromBeginning: true });
    await own.run({ eachMessage: async ({ message }) => void received.push(String(message.value)) });
    await waitFor(
      () => received.length,
      (n) => n > 0,
      { what: 'history-projection to read payments.events in its own group', timeoutMs: 60_000 },
    );

    // The wallet's group is not history's to join: the broker refuses to name its coordinator.
    // kafkajs reports that as "Failed to find group coordinator"; the broker's own answer is in its debug log.
    const answers: string[] = [];
    const foreign = new Kafka({
      clientId: 'acl-test-foreign-group',
      brokers,
      ...scramClient(history),
      retry: { retries: 0 },
      logLevel: logLevel.DEBUG,
      logCreator: () => (entry) => void answers.push(`${entry.log.message} ${failureOf(entry.log.error ?? {})}`),
    }).consumer({ groupId: 'wallet.funds-commands', retry: { retries: 0 } });
    clients.push(foreign);
    const crashed = new Promise<void>((resolve) => foreign.on(foreign.events.CRASH, () => resolve()));
    await foreign.connect();
    await foreign.subscribe({ topics: [Topics.paymentEvents], fromBeginning: true });
    await foreign.run({ eachMessage: async () => undefined });
    await crashed;
    expect(answers.filter((line) => line.startsWith('Tried to find group coordinator'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/GROUP_AUTHORIZATION_FAILED|Group authorization failed/)]),
    );

    // Nor may it read a topic it has no grant for, even in its own group.
    const producerOnly = kafkaAs(history).consumer({ groupId: 'history-projection.not-granted-topic', retry: { retries: 0 } });
    clients.push(producerOnly);
    await producerOnly.connect();
    // The broker refuses the topic's metadata to a principal without a grant on it.
    await expect(producerOnly.subscribe({ topics: [Topics.purchaseRequests], fromBeginning: true })).rejects.toThrow(/Topic authorization failed/);
  });

  it('refuses a wrong password and an unknown user', async () => {
    const wrong = kafkaAs({ name: 'wallet', password: 'not-the-password' }).producer({ retry: { retries: 0 } });
    await expect(wrong.connect()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed|Authentication failed|authentication/i);
    const stranger = kafkaAs({ name: 'mallory', password: secret() }).producer({ retry: { retries: 0 } });
    await expect(stranger.connect()).rejects.toThrow(/authentication/i);
  });

  it('applies the list idempotently and removes a grant the list no longer has', async () => {
    expect(await planAcls(admin)).toEqual({ create: [], remove: [] });
    const stray = { user: 'wallet', resource: 'topic', pattern: 'literal', name: Topics.walletCommands, operation: 'write' } as const;
    await applyAcls(admin, [...aclBindings(), stray]);
    expect(await mayWrite(userOf('wallet'), Topics.walletCommands)).toBe(true);
    const plan = await applyAcls(admin);
    expect(plan.remove).toHaveLength(1);
    await waitFor(
      () => mayWrite(userOf('wallet'), Topics.walletCommands),
      (may) => may === false,
      { what: 'the removed grant to stop working', timeoutMs: 20_000 },
    );
  });
});
