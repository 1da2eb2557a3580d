import type { RecordMetadata } from 'kafkajs';

/** A partition a send wrote to, as its messages were routed (`undefined`: the client routed none). */
export interface RoutedMessage {
  topic: string;
  partition: number | undefined;
}

/**
 * What the acknowledgements of one send leave unproven, one line per partition (empty: every
 * message was written). A send is proven written when every partition its messages were routed to
 * has an answer without error whose base offset is past every base offset this producer was given
 * earlier for that partition. A broker answers a batch it takes for a duplicate of an earlier one
 * (same producer id and sequence numbers) with the earlier batch's offset and writes nothing: an
 * offset that does not move means the messages are not in the log. So does a partition without an
 * answer, or a message the client never routed.
 *
 * `highest` is the producer's memory (highest base offset acknowledged per partition): updated
 * with every partition proven written; a partition found unproven is forgotten, so that a topic
 * deleted and created again (offsets from 0) costs one republished send, not a relay stuck for good.
 */
export function unwrittenPartitions(routed: readonly RoutedMessage[], acks: readonly RecordMetadata[], highest: Map<string, bigint>): string[] {
  const problems: string[] = [];
  const partitions = new Set<string>();
  for (const { topic, partition } of routed) {
    if (partition === undefined) problems.push(`${topic}: a message was never routed to a partition`);
    else partitions.add(partitionKey(topic, partition));
  }
  const answers = new Map(acks.map((ack) => [partitionKey(ack.topicName, ack.partition), ack]));
  for (const key of partitions) {
    const ack = answers.get(key);
    const offset = ack?.baseOffset ?? ack?.offset;
    const previous = highest.get(key);
    let problem: string | undefined;
    if (!ack) problem = 'no acknowledgement';
    else if (ack.errorCode !== 0) problem = `error code ${ack.errorCode}`;
    else if (offset === undefined || !/^-?\d+$/.test(offset)) problem = 'no base offset';
    else if (previous !== undefined && BigInt(offset) <= previous) problem = `acknowledged at offset ${offset}, not past ${previous} acknowledged before`;
    if (problem) {
      problems.push(`${key}: ${problem}`);
      highest.delete(key);
    } else highest.set(key, BigInt(offset!));
  }
  return problems;
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}[${partition}]`;
}

/** A send the client resolved although what it answered does not prove the messages written. */
export class UnprovenSendError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Kafka acknowledged a send without proving it written (${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; …' : ''})`);
    this.name = 'UnprovenSendError';
  }
}
