/**
 * `npm run dlq:replay -- --topic payments.events.v1 [--consumer history-projection] [--dry-run]`
 * re-delivers the dead letters of a topic to it, after the fix that made them fail is deployed.
 * Each dead letter is replayed once (the replayer commits its own offsets); consumers that had
 * applied an event skip it through their inbox.
 *
 * Purchase requests (`payments.purchase-requests.v1`) are authenticated per record, and a dead
 * letter never keeps its sender's token: they are replayed with the operator's own access token
 * (`DLQ_REPLAY_ACCESS_TOKEN`, role operator) and the sender attestation orchestration gave the dead
 * letter; those without one are listed, not replayed, for their app to send again
 * (docs/operations.md, "Replaying dead letters").
 */
import { parseArgs } from 'node:util';
import { CONSUMER_GROUP_ID_PATTERN, CONSUMER_GROUP_ID_RULE, deadLetterTopicOf, DLQ_SUFFIX, TOPIC_SPECS, Topics } from '@pay/contracts';
import { createKafka, EventPublisher, kafkaSaslFromEnv, replayDeadLetters } from '@pay/messaging';
import { purchaseRequestReplay } from '@pay/payment-orchestration/tools';
import { kafkaConnectionFromEnv } from './kafka-connection';

const USAGE = 'usage: npm run dlq:replay -- --topic <topic or topic.dlq> [--consumer <group>] [--dry-run]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { topic: { type: 'string' }, consumer: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
    strict: true,
  });
  const consumed = TOPIC_SPECS.filter((spec) => spec.consumed).map((spec) => spec.name);
  const topic = values.topic?.endsWith(DLQ_SUFFIX) ? values.topic.slice(0, -DLQ_SUFFIX.length) : values.topic;
  if (!topic || !consumed.includes(topic)) throw new Error(`--topic must be one of ${consumed.join(', ')} (or its .dlq)\n${USAGE}`);
  if (values.consumer !== undefined && !CONSUMER_GROUP_ID_PATTERN.test(values.consumer))
    throw new Error(`--consumer must be ${CONSUMER_GROUP_ID_RULE}\n${USAGE}`);
  const { brokers, tls } = kafkaConnectionFromEnv(process.env);

  // Purchase requests need an operator's token to stand for their attested senders (read from the
  // environment, not the command line, so it stays out of shell history and process lists).
  let replayAs: Parameters<typeof replayDeadLetters>[0]['replayAs'];
  if (topic === Topics.purchaseRequests) {
    const token = process.env.DLQ_REPLAY_ACCESS_TOKEN?.trim();
    if (!token && !values['dry-run']) {
      throw new Error(
        `${topic}: set DLQ_REPLAY_ACCESS_TOKEN to your operator access token; each replayed request carries it with the attestation of its original sender (docs/operations.md)`,
      );
    }
    replayAs = purchaseRequestReplay(token);
  }

  // On a cluster with authentication: an operator's user that may read the dead letters and write the topic.
  const sasl = kafkaSaslFromEnv(process.env, 'scram-sha-512');
  const kafka = createKafka({ clientId: 'dlq-replay', brokers, ...(sasl ? { sasl } : {}), tls });
  const publisher = new EventPublisher(kafka);
  try {
    const result = await replayDeadLetters({
      kafka,
      publisher,
      deadLetterTopic: deadLetterTopicOf(topic),
      onlyConsumer: values.consumer,
      dryRun: values['dry-run'],
      ...(replayAs ? { replayAs } : {}),
    });
    const verb = values['dry-run'] ? 'would replay' : 'replayed';
    process.stdout.write(
      `${verb} ${result.replayed} dead letters of ${topic}${values.consumer ? ` for ${values.consumer}` : ''}; skipped ${result.skipped} of other consumers\n`,
    );
    if (result.notReplayed.length > 0) {
      process.stdout.write(`${result.notReplayed.length} dead letters cannot be replayed (their producer must send them again):\n`);
      for (const letter of result.notReplayed) {
        const why = letter.deadLetteredFor ? ` (dead-lettered for: ${letter.deadLetteredFor})` : '';
        process.stdout.write(`  ${deadLetterTopicOf(topic)} partition ${letter.partition} offset ${letter.offset}: ${letter.reason}${why}\n`);
      }
    }
  } finally {
    await publisher.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`dlq:replay: ${(error as Error).message}\n`);
  process.exit(1);
});
