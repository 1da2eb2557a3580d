/**
 * kafkajs 2.2.4 restarts a consumer that lost its broker (a retriable crash) with a new
 * ConsumerGroup, which joins as a new member (`memberId: ''`). The group still lists the member it
 * was: the broker keeps the group's members across its own restart, and a rebalance waits for every
 * listed member until its session times out (30 s). So after a broker outage every group stalled
 * for a whole session before consuming again (issue 15: 30 s, measured by
 * tools/e2e/broker-outage.e2e-spec.ts). Here the restarted ConsumerGroup of the same kafkajs
 * consumer rejoins with the member id it had: the broker takes it as the member coming back, and
 * the rebalance ends as soon as the group's members are back. If the broker no longer knows the id
 * (UNKNOWN_MEMBER_ID: the session did expire), kafkajs's own handling joins afresh, as before.
 * A consumer that left its group (stop, the broker answering) forgets its id. Installed once per process by `createKafka`.
 *
 * Across process restarts (issue 15, ADR 0015): a consumer's first join may take the member id the
 * previous process of the same instance had (`offerPreviousMemberId`, from InstanceMemberships), so
 * that a process restarted after a SIGKILL takes its dead predecessor's place at once.
 */
// kafkajs has no typings for its internals; the path is stable within 2.x.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup') as { prototype: ConsumerGroupInternals };

/** What a kafkajs ConsumerGroup keeps that matters here; its instrumentation emitter is its consumer's, one per `kafka.consumer()`. */
export interface ConsumerGroupInternals {
  groupId: string;
  memberId: string | null;
  instrumentationEmitter: object;
  joinAndSync: (this: ConsumerGroupInternals) => Promise<void>;
  leave: (this: ConsumerGroupInternals) => Promise<void>;
}

let installed = false;

/** Member ids offered for the first join of a group's consumer in this process, by group id; each is taken once. */
const offered = new Map<string, string>();

/**
 * The next consumer of `groupId` in this process that joins without an id of its own joins with
 * `memberId`, once (kafkajs joins afresh if the broker no longer knows it: UNKNOWN_MEMBER_ID).
 * One consumer per group and process: the id is not tied to a particular kafkajs consumer.
 */
export function offerPreviousMemberId(groupId: string, memberId: string): void {
  offered.set(groupId, memberId);
}

/** Withdraws an offer not taken (its consumer never joined). */
export function withdrawPreviousMemberId(groupId: string, memberId: string): void {
  if (offered.get(groupId) === memberId) offered.delete(groupId);
}

function takeOffered(groupId: string): string | null {
  const memberId = offered.get(groupId);
  offered.delete(groupId);
  return memberId ?? null;
}

export function installMemberIdAcrossRestarts(): void {
  if (installed) return;
  installed = true;
  rememberMemberIds(ConsumerGroup.prototype);
}

/** Patches a ConsumerGroup prototype (kafkajs's, or a stand-in in a unit test). */
export function rememberMemberIds(prototype: ConsumerGroupInternals): void {
  const memberIds = new WeakMap<object, string>();
  const { joinAndSync, leave } = prototype;
  prototype.joinAndSync = async function (this: ConsumerGroupInternals): Promise<void> {
    this.memberId ??= memberIds.get(this.instrumentationEmitter) ?? takeOffered(this.groupId);
    await joinAndSync.call(this);
    if (this.memberId) memberIds.set(this.instrumentationEmitter, this.memberId);
  };
  // kafkajs tries to leave on a crash too, which fails while the broker is away: the id is kept
  // then. Only a LeaveGroup the broker answered ends the membership.
  prototype.leave = async function (this: ConsumerGroupInternals): Promise<void> {
    await leave.call(this);
    memberIds.delete(this.instrumentationEmitter);
  };
}
