import type { ConsumerGroupInternals } from './kafkajs-member-id';
import { offerPreviousMemberId, rememberMemberIds, withdrawPreviousMemberId } from './kafkajs-member-id';

/** A stand-in of kafkajs's ConsumerGroup: a join assigns the member id the broker gives, or keeps the one it was given. */
class FakeConsumerGroup implements ConsumerGroupInternals {
  static brokerUp = true;
  static joinedWith: Array<string | null> = [];
  static next = 1;
  memberId: string | null = null;

  constructor(
    readonly instrumentationEmitter: object,
    readonly groupId = 'parcels',
  ) {}

  async joinAndSync(): Promise<void> {
    FakeConsumerGroup.joinedWith.push(this.memberId);
    this.memberId ??= `member-${FakeConsumerGroup.next++}`;
  }

  async leave(): Promise<void> {
    if (!FakeConsumerGroup.brokerUp) throw new Error('Connection error: connect ECONNREFUSED');
    this.memberId = null;
  }
}
rememberMemberIds(FakeConsumerGroup.prototype);

describe('a kafkajs consumer keeps its member id across its own restarts', () => {
  beforeEach(() => {
    FakeConsumerGroup.brokerUp = true;
    FakeConsumerGroup.joinedWith = [];
  });

  it('rejoins with the id it had when kafkajs restarts it after a crash (a new ConsumerGroup of the same consumer)', async () => {
    const consumer = {};
    const first = new FakeConsumerGroup(consumer);
    await first.joinAndSync();
    // The crash: kafkajs tries to leave, which fails while the broker is away.
    FakeConsumerGroup.brokerUp = false;
    await expect(first.leave()).rejects.toThrow('ECONNREFUSED');
    FakeConsumerGroup.brokerUp = true;
    const restarted = new FakeConsumerGroup(consumer);
    await restarted.joinAndSync();
    expect(FakeConsumerGroup.joinedWith).toEqual([null, first.memberId]);
    expect(restarted.memberId).toBe(first.memberId);
  });

  it('joins afresh after it left its group, and another consumer never gets its id', async () => {
    const consumer = {};
    const first = new FakeConsumerGroup(consumer);
    await first.joinAndSync();
    const firstId = first.memberId;
    await first.leave();
    const again = new FakeConsumerGroup(consumer);
    await again.joinAndSync();
    const other = new FakeConsumerGroup({});
    await other.joinAndSync();
    expect(FakeConsumerGroup.joinedWith).toEqual([null, null, null]);
    expect(new Set([firstId, again.memberId, other.memberId]).size).toBe(3);
  });
});

describe('a consumer takes the member id its instance had before the process restarted', () => {
  beforeEach(() => {
    FakeConsumerGroup.joinedWith = [];
  });

  it('the first consumer of the group to join takes the offered id, once; another group does not', async () => {
    offerPreviousMemberId('parcels', 'member-of-the-dead-process');
    const other = new FakeConsumerGroup({}, 'letters');
    await other.joinAndSync();
    const first = new FakeConsumerGroup({});
    await first.joinAndSync();
    const second = new FakeConsumerGroup({});
    await second.joinAndSync();
    expect(FakeConsumerGroup.joinedWith).toEqual([null, 'member-of-the-dead-process', null]);
    expect(first.memberId).toBe('member-of-the-dead-process');
  });

  it('an id kept within the process wins over an offer, and a withdrawn offer is not taken', async () => {
    const consumer = {};
    const group = new FakeConsumerGroup(consumer);
    await group.joinAndSync();
    offerPreviousMemberId('parcels', 'stale');
    const restarted = new FakeConsumerGroup(consumer);
    await restarted.joinAndSync();
    expect(restarted.memberId).toBe(group.memberId);
    withdrawPreviousMemberId('parcels', 'stale');
    const fresh = new FakeConsumerGroup({});
    await fresh.joinAndSync();
    expect(FakeConsumerGroup.joinedWith).toEqual([null, group.memberId, null]);
  });
});
