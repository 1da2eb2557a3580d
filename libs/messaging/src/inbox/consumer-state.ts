import type { Logger } from '@pay/observability';
import { platformMetrics, scrubText } from '@pay/observability';

/**
 * Where a consumer group's member is in its life:
 * - `joining`: connecting and joining its group (at start); nothing consumed yet;
 * - `connected`: a member of its group, its partitions assigned, consuming;
 * - `rebalancing`: its group is being rebalanced; nothing consumed meanwhile;
 * - `disconnected`: it lost the broker or its group (kafkajs crashed it with a retriable error) and
 *   is being restarted: nothing consumed until it joins again;
 * - `crashed`: it failed with an error kafkajs does not retry; nothing is consumed until the
 *   service restarts;
 * - `stopped`: stopped on purpose (shutdown), its offsets committed.
 */
export const CONSUMER_STATES = ['joining', 'connected', 'rebalancing', 'disconnected', 'crashed', 'stopped'] as const;
export type ConsumerState = (typeof CONSUMER_STATES)[number];

/** What is known of a change beyond the state itself. */
export interface ConsumerStateDetails {
  /** Why it left `connected` (the error's name and message, scrubbed). */
  reason?: string;
  /** `disconnected`: when kafkajs tries again. */
  retryInMs?: number;
  /** Anything else worth a field of the log line (counts of a stopped consumer, …). */
  [field: string]: unknown;
}

const MESSAGES: Record<ConsumerState, string> = {
  joining: 'consumer joining its group',
  connected: 'consumer connected: a member of its group, consuming',
  rebalancing: 'consumer rebalancing: its group is reassigning partitions, nothing is consumed meanwhile',
  disconnected: 'consumer disconnected: it lost the broker or its group and is restarted by itself; nothing is consumed meanwhile',
  crashed: 'consumer crashed: it is not restarted and consumes nothing until the service restarts',
  stopped: 'consumer stopped',
};

/**
 * A consumer group's state, for operators: each change gives exactly one log line (`consumer`,
 * `state`, `previous`, and why) and moves the metrics `messaging_consumer_state{consumer,state}`
 * (1 for the current state, 0 for the others) and `messaging_consumer_state_changes_total{consumer,state}`.
 * A change to the state it is already in is no change: a consumer that keeps failing to reconnect
 * during an outage logs `disconnected` once, not once per attempt.
 */
export class ConsumerStateTracker {
  private current?: ConsumerState;
  private since = Date.now();

  constructor(
    private readonly consumer: string,
    private readonly logger: Logger,
  ) {}

  get state(): ConsumerState | undefined {
    return this.current;
  }

  /** Moves to `state`; true if that was a change (logged and counted), false if it was already there. */
  enter(state: ConsumerState, details: ConsumerStateDetails = {}, message = MESSAGES[state]): boolean {
    if (state === this.current) return false;
    const previous = this.current;
    const now = Date.now();
    const fields: Record<string, unknown> = { ...details, consumer: this.consumer, state, previous: previous ?? null };
    if (previous !== undefined) fields.previousForMs = now - this.since;
    if (typeof details.reason === 'string') fields.reason = scrubText(details.reason).slice(0, 500);
    this.current = state;
    this.since = now;
    const metrics = platformMetrics();
    for (const each of CONSUMER_STATES) metrics.consumerState.set(each === state ? 1 : 0, { consumer: this.consumer, state: each });
    metrics.consumerStateChanges.add(1, { consumer: this.consumer, state });
    if (state === 'crashed') this.logger.error(fields, message);
    else if (state === 'disconnected') this.logger.warn(fields, message);
    else this.logger.info(fields, message);
    return true;
  }
}
