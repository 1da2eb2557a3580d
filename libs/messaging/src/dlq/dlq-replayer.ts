import { DLQ_SUFFIX } from '@pay/contracts';
import type { IHeaders, Kafka, KafkaMessage, Message } from 'kafkajs';
import type { EventPublisher } from '../kafka/event-publisher';

export interface DlqReplayOptions {
  kafka: Kafka;
  publisher: EventPublisher;
  /** The dead-letter topic, `<topic>.dlq`. */
  deadLetterTopic: string;
  /** Replay only the dead letters of this consumer group (the `dlq-consumer` header). */
  onlyConsumer?: string;
  /** Count what would be replayed, publish nothing, commit nothing. */
  dryRun?: boolean;
  /** Give up waiting for the end of the topic after this long. */
  timeoutMs?: number;
  /**
   * How a topic's dead letters are re-sent: headers to add (replacing the letter's own of the same
   * name), or why one cannot be replayed (reported, not published; its offset is committed like a
   * replayed one's). Without it every letter is re-sent with its own headers.
   */
  replayAs?: (letter: KafkaMessage) => { headers: IHeaders } | { notReplayable: string };
}

/** A dead letter that was not re-sent, and why (its Kafka position in the dead-letter topic). */
export interface NotReplayed {
  partition: number;
  offset: string;
  reason: string;
  /** Why it was dead-lettered (`dlq-reason`). */
  deadLetteredFor?: string;
}

export interface DlqReplayResult {
  replayed: number;
  skipped: number;
  notReplayed: NotReplayed[];
}

const stripDlqHeaders = (headers: IHeaders | undefined): IHeaders =>
  Object.fromEntries<IHeaders[string]>(Object.entries(headers ?? {}).filter(([name]) => !name.startsWith('dlq-')));

/**
 * Re-delivers dead letters to their original topic after a fix, each once: the replayer reads
 * the DLQ as its own consumer group and commits as it goes, so a second run replays only what
 * died since. Consumers that had applied an event already skip it through their inbox.
 */
export async function replayDeadLetters(options: DlqReplayOptions): Promise<DlqReplayResult> {
  if (!options.deadLetterTopic.endsWith(DLQ_SUFFIX)) throw new Error(`${options.deadLetterTopic} is not a dead-letter topic (it must end in ${DLQ_SUFFIX})`);
  const originalTopic = options.deadLetterTopic.slice(0, -DLQ_SUFFIX.length);
  const admin = options.kafka.admin();
  await admin.connect();
  // Replay up to the end as it is now; letters that die during the replay wait for the next run.
  const ends = new Map((await admin.fetchTopicOffsets(options.deadLetterTopic)).map((p) => [p.partition, BigInt(p.high)]));
  const groupId = `dlq-replay.${options.deadLetterTopic}`;
  // Where earlier runs stopped: those partitions may have nothing new to deliver.
  const committed = await admin.fetchOffsets({ groupId, topics: [options.deadLetterTopic] });
  await admin.disconnect();
  const position = new Map<number, bigint>();
  for (const { partitions } of committed) {
    for (const { partition, offset } of partitions) if (offset !== '-1') position.set(partition, BigInt(offset) - 1n);
  }

  const consumer = options.kafka.consumer({ groupId, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
  const result: DlqReplayResult = { replayed: 0, skipped: 0, notReplayed: [] };
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.deadLetterTopic, fromBeginning: true });
    let drained!: () => void;
    const done = new Promise<void>((resolve) => (drained = resolve));
    const caughtUp = (): boolean => [...ends].every(([partition, end]) => end === 0n || (position.get(partition) ?? -1n) + 1n >= end);
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const offset = BigInt(message.offset);
        const end = ends.get(partition) ?? 0n;
        if (offset >= end) return;
        const consumerName = message.headers?.['dlq-consumer']?.toString();
        if (options.onlyConsumer && consumerName !== options.onlyConsumer) {
          result.skipped += 1;
        } else {
          const how = options.replayAs?.(message) ?? { headers: {} };
          if ('notReplayable' in how) {
            const deadLetteredFor = message.headers?.['dlq-reason']?.toString();
            result.notReplayed.push({ partition, offset: message.offset, reason: how.notReplayable, ...(deadLetteredFor ? { deadLetteredFor } : {}) });
          } else {
            if (!options.dryRun) {
              const replayed: Message = {
                key: message.key,
                value: message.value,
                headers: { ...stripDlqHeaders(message.headers), ...how.headers, 'dlq-replayed-at': new Date().toISOString() },
              };
              await options.publisher.sendRaw([{ topic: originalTopic, messages: [replayed] }]);
            }
            result.replayed += 1;
          }
        }
        if (!options.dryRun) await consumer.commitOffsets([{ topic: options.deadLetterTopic, partition, offset: (offset + 1n).toString() }]);
        position.set(partition, offset);
        if (caughtUp()) drained();
      },
    });
    if (caughtUp()) drained();
    const timeoutMs = options.timeoutMs ?? 60_000;
    await Promise.race([
      done,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`DLQ replay did not reach the end within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
  } finally {
    await consumer.disconnect();
  }
  return result;
}
