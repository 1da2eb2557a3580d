/**
 * A dead-lettered purchase request replayed for its sender, on real Kafka and PostgreSQL: the
 * inbox dead-letters it with orchestration's attestation of its verified sender (never the token),
 * `npm run dlq:replay`'s replayer re-sends it with an operator's token and that attestation, and the
 * intake's sender check (`authenticateSender`) takes the attested app backend as the sender. Letters
 * whose sender never verified are listed as not replayable; forged replays are dead-lettered again.
 */
import { randomUUID } from 'node:crypto';
import type { AccessTokenVerifier as Verifier } from '@pay/auth';
import { AccessTokenVerifier, APP_BACKEND_SCOPES } from '@pay/auth';
import type { TestIssuer } from '@pay/auth/testing';
import { createTestIssuer } from '@pay/auth/testing';
import { deadLetterTopicOf } from '@pay/contracts';
import type { ConsumedEvent } from '@pay/messaging';
import { EventPublisher, INBOX_TABLE_SQL, InboxConsumer, PermanentEventError, replayDeadLetters } from '@pay/messaging';
import { createLogger } from '@pay/observability';
import type { TestSchema } from '@pay/testing';
import { appPurchaseRequest, createTestSchema, createTestTopics, deleteTestTopics, testKafka, uniqueName, waitFor } from '@pay/testing';
import { exportJWK, generateKeyPair } from 'jose';
import type { KafkaMessage } from 'kafkajs';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { attestSenderOf, authenticateSender } from './purchase-request-sender';
import { purchaseRequestReplay } from './replay-purchase-request';
import { SENDER_ATTESTATION_HEADER, SenderAttestations } from './sender-attestation';

jest.setTimeout(120_000);

class CreateTables1768500000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(INBOX_TABLE_SQL);
    await runner.query('CREATE TABLE accepted (request_id uuid PRIMARY KEY, sender text NOT NULL)');
  }
  async down(): Promise<void> {}
}

const orchestrationKey = async (): Promise<SenderAttestations> => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return SenderAttestations.create({ ...(await exportJWK(privateKey)), kid: `po-${randomUUID()}`, alg: 'ES256' });
};

let db: TestSchema;
let publisher: EventPublisher;
let idp: TestIssuer;
let verifier: Verifier;
let attestations: SenderAttestations;
const kafka = testKafka();
const topic = uniqueName('it.purchase-requests').replace(/_/g, '-');
const dlq = deadLetterTopicOf(topic);
const producer = kafka.producer();

beforeAll(async () => {
  db = await createTestSchema('it_replay_purchases', [CreateTables1768500000000]);
  await createTestTopics([topic, dlq], 2);
  publisher = new EventPublisher(kafka);
  await producer.connect();
  idp = await createTestIssuer();
  verifier = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience });
  attestations = await orchestrationKey();
});

afterAll(async () => {
  await producer.disconnect();
  await publisher.disconnect();
  await deleteTestTopics([topic, dlq]);
  await db.drop();
});

const backend = (app: string): Promise<string> => idp.signTestToken({ sub: `${app}-backend`, role: 'service', app, scope: APP_BACKEND_SCOPES.join(' ') });

/** A purchase request's bytes, as an app backend writes them. */
const purchase = (app: string): { requestId: string; value: string } =>
  appPurchaseRequest({
    kind: 'purchase',
    payerId: 'p-replay',
    counterparty: { type: 'merchant', id: 'm-replay' },
    app,
    country: 'US',
    amount: { amount: '500', currency: 'USD' },
  });

const send = (request: { requestId: string; value: string }, headers: Record<string, string>): Promise<unknown> =>
  producer.send({ topic, acks: -1, messages: [{ key: request.requestId, value: request.value, headers }] });

async function deadLetters(): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(dlq);
  await admin.disconnect();
  const total = ends.reduce((sum, partition) => sum + Number(partition.high), 0);
  const letters: KafkaMessage[] = [];
  if (total === 0) return letters;
  const reader = kafka.consumer({ groupId: uniqueName('it.dlq-reader') });
  await reader.connect();
  await reader.subscribe({ topic: dlq, fromBeginning: true });
  await reader.run({ eachMessage: async ({ message }) => void letters.push(message) });
  await waitFor(
    async () => letters.length,
    (count) => count >= total,
    { what: 'the dead letters read' },
  );
  await reader.disconnect();
  return letters;
}

const header = (message: KafkaMessage, name: string): string | undefined => message.headers?.[name]?.toString();
const requestIdOf = (message: KafkaMessage): string => (JSON.parse(message.value!.toString()) as { data: { requestId: string } }).data.requestId;

it('replays a dead-lettered purchase request for its attested sender, lists those it cannot, and dead-letters forged replays', async () => {
  let bugFixed = false;
  const consumer = new InboxConsumer({
    groupId: uniqueName('it.po.purchase-requests'),
    topics: [topic],
    kafka,
    dataSource: db.dataSource,
    publisher,
    logger: createLogger('replay-test', 'silent'),
    maxAttempts: 1,
    retryBackoffMs: 5,
    deadLetterHeaders: (message) => attestSenderOf(verifier, attestations, message),
    handlers: {
      'payments.purchase.requested': async (event, tx) => {
        const consumed = event as ConsumedEvent<{ app: string; requestId: string }>;
        const sender = await authenticateSender(verifier, consumed, attestations);
        if (!bugFixed) throw new PermanentEventError('bug: purchase requests refused');
        await tx.query('INSERT INTO accepted (request_id, sender) VALUES ($1, $2)', [consumed.envelope.data.requestId, sender]);
      },
    },
  });
  await consumer.start();
  try {
    // Dead-lettered by a bug after its sender verified; and two whose sender never verified.
    const messengers = purchase('messenger');
    await send(messengers, { authorization: `Bearer ${await backend('messenger')}` });
    const tokenless = purchase('facebook');
    await send(tokenless, {});
    const wrongApp = purchase('facebook');
    await send(wrongApp, { authorization: `Bearer ${await backend('messenger')}`, [SENDER_ATTESTATION_HEADER]: 'producer-made' });
    await waitFor(
      async () => consumer.stats.deadLettered,
      (count) => count === 3,
      { what: 'three dead letters' },
    );

    const letters = await deadLetters();
    expect(letters.map((letter) => header(letter, 'authorization'))).toEqual([undefined, undefined, undefined]);
    const attested = letters.filter((letter) => header(letter, SENDER_ATTESTATION_HEADER) !== undefined);
    expect(attested.map(requestIdOf)).toEqual([messengers.requestId]);
    const attestation = header(attested[0], SENDER_ATTESTATION_HEADER)!;
    expect((await attestations.verify(attestation)).sender).toEqual({
      subject: 'messenger-backend',
      role: 'service',
      scopes: [...APP_BACKEND_SCOPES].sort(),
      app: 'messenger',
    });

    // A dry run says which can be replayed; without the fix nothing is re-sent.
    const dryRun = await replayDeadLetters({ kafka, publisher, deadLetterTopic: dlq, dryRun: true, replayAs: purchaseRequestReplay(undefined) });
    expect(dryRun.replayed).toBe(1);
    expect(dryRun.notReplayed.map((letter) => letter.reason)).toEqual([
      expect.stringMatching(/app must send it again/),
      expect.stringMatching(/app must send it again/),
    ]);
    expect(dryRun.notReplayed.map((letter) => letter.deadLetteredFor)).toEqual(
      expect.arrayContaining([expect.stringMatching(/without its sender's access token/), expect.stringMatching(/acts for the app "messenger"/)]),
    );

    // The fix is deployed; an operator replays with their own token: the request counts as messenger's.
    bugFixed = true;
    const operator = await idp.signTestToken({ sub: 'sre-1', role: 'operator' });
    const replay = await replayDeadLetters({ kafka, publisher, deadLetterTopic: dlq, replayAs: purchaseRequestReplay(operator) });
    expect(replay.replayed).toBe(1);
    expect(replay.notReplayed).toHaveLength(2);
    await waitFor(
      () => db.dataSource.query<{ request_id: string; sender: string }[]>('SELECT request_id, sender FROM accepted'),
      (rows) => rows.length === 1,
      { what: 'the replayed request accepted' },
    );
    expect(await db.dataSource.query('SELECT request_id, sender FROM accepted')).toEqual([
      { request_id: messengers.requestId, sender: 'service:messenger-backend' },
    ]);

    // Forged replays: messenger's attestation on facebook's request, on messenger's request edited
    // to name facebook, one signed by another key, and messenger's attestation without an operator
    // (a person's token): each dead-lettered for its sender, nothing accepted.
    const forgedKey = await orchestrationKey();
    const otherKeysAttestation = (
      await attestSenderOf(verifier, forgedKey, {
        headers: { authorization: `Bearer ${await backend('messenger')}` },
        timestamp: String(Date.now()),
        value: Buffer.from(messengers.value),
      })
    )[SENDER_ATTESTATION_HEADER]!;
    const asOperator = (value: string) => ({ authorization: `Bearer ${operator}`, [SENDER_ATTESTATION_HEADER]: value });
    const facebooks = purchase('facebook');
    await send(facebooks, asOperator(attestation));
    await send(
      { requestId: messengers.requestId, value: messengers.value.replace('"messenger"', '"facebook"').replace(/"id":"[^"]+"/, `"id":"${randomUUID()}"`) },
      asOperator(attestation),
    );
    const another = purchase('messenger');
    await send(another, asOperator(otherKeysAttestation));
    const person = await idp.signTestToken({ sub: 'p-replay', role: 'person' });
    await send(purchase('messenger'), { authorization: `Bearer ${person}`, [SENDER_ATTESTATION_HEADER]: attestation });
    await waitFor(
      async () => consumer.stats.deadLettered,
      (count) => count === 7,
      { what: 'the forged replays dead-lettered' },
    );
    const positionOf = (letter: KafkaMessage): string => `${header(letter, 'dlq-original-partition')}:${header(letter, 'dlq-original-offset')}`;
    const earlier = new Set(letters.map(positionOf));
    const forged = (await deadLetters()).filter((letter) => !earlier.has(positionOf(letter)));
    expect(forged).toHaveLength(4);
    expect(forged.map((letter) => header(letter, 'dlq-reason'))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/for another request/),
        expect.stringMatching(/for another request/),
        expect.stringMatching(/not one payment-orchestration signed/),
        expect.stringMatching(/not an app backend's/),
      ]),
    );
    // None of them is attested: a replay of these gets nowhere either.
    expect(forged.map((letter) => header(letter, SENDER_ATTESTATION_HEADER))).toEqual([undefined, undefined, undefined, undefined]);
    expect(await db.dataSource.query('SELECT count(*)::int AS n FROM accepted')).toEqual([{ n: 1 }]);
  } finally {
    await consumer.stop();
  }
});
