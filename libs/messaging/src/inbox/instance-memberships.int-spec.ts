/**
 * A consumer process SIGKILLed and started again as the same instance takes its dead
 * predecessor's place at once (ADR 0015), where a new member would wait for the dead one's
 * session to time out; two instances share the partitions as before; a second live process given
 * the same instance id never takes the live one's member id; a predecessor whose session already
 * expired is replaced by a fresh join. Real Kafka and PostgreSQL; each process is
 * instance-memberships.fixture.ts run by node, as a service runs.
 */
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createEvent, deadLetterTopicOf, defineEvent } from '@pay/contracts';
import type { TestSchema } from '@pay/testing';
import {
  createTestSchema,
  createTestTopics,
  deleteTestTopics,
  startFixtureProcess,
  testKafka,
  testKafkaBrokers,
  testKafkaSasl,
  uniqueName,
  waitFor,
} from '@pay/testing';
import { IsInt, Min } from 'class-validator';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { EventPublisher } from '../kafka/event-publisher';
import { INBOX_TABLE_SQL } from './inbox.schema';
import { CONSUMER_GROUP_MEMBERS_TABLE_SQL } from './instance-memberships';

class ParcelCounted {
  @IsInt()
  @Min(0)
  quantity!: number;
}

const ParcelCountedV1 = defineEvent({ type: 'test.parcel.counted', version: 1, topic: 'it.parcels', dataClass: ParcelCounted, description: 'test event' });

class CreateTestTables1700000000001 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(INBOX_TABLE_SQL);
    await runner.query(CONSUMER_GROUP_MEMBERS_TABLE_SQL);
    await runner.query('CREATE TABLE applied (event_id uuid NOT NULL, pid integer NOT NULL)');
  }
  async down(): Promise<void> {}
}

const FIXTURE = resolve(__dirname, 'instance-memberships.fixture.ts');
/** A session long enough that nothing in these tests can pass by waiting for it to time out. */
const SESSION_MS = 30_000;
const PARTITIONS = 3;

/** One process of the fixture: its log lines (JSON) and whether it printed `ready`. */
interface Member {
  child: ChildProcess;
  instance: string;
  lines: string[];
  /** Its log lines as objects (the non-JSON ones left out). */
  logs(): Array<Record<string, unknown>>;
  /** Partitions of its last `connected` state (undefined before it joined). */
  partitions(): number | undefined;
  go(): void;
}

describe('a consumer process restarted as the same instance rejoins as its dead predecessor', () => {
  let db: TestSchema;
  let publisher: EventPublisher;
  const kafka = testKafka();
  const topic = uniqueName('it.members').replace(/_/g, '-');
  const members: Member[] = [];

  beforeAll(async () => {
    await createTestTopics([topic, deadLetterTopicOf(topic)], PARTITIONS);
    db = await createTestSchema('it_members', [CreateTestTables1700000000001]);
    publisher = new EventPublisher(kafka);
    await publisher.connect();
  });

  afterEach(() => {
    for (const member of members.splice(0)) member.child.kill('SIGKILL');
  });

  afterAll(async () => {
    await publisher.disconnect();
    await deleteTestTopics([topic, deadLetterTopicOf(topic)]);
    await db.drop();
  });

  /** Starts a process of `instance` in `groupId` and waits until it has loaded (it consumes once told `go`). */
  async function startMember(groupId: string, instance: string, sessionMs = SESSION_MS): Promise<Member> {
    const fixture = startFixtureProcess(FIXTURE, {
      DATABASE_URL: db.url,
      MEMBER_FIXTURE_SCHEMA: db.schema,
      MEMBER_FIXTURE_GROUP: groupId,
      MEMBER_FIXTURE_TOPIC: topic,
      MEMBER_FIXTURE_INSTANCE: instance,
      MEMBER_FIXTURE_SESSION_MS: String(sessionMs),
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      // Its credentials (a broker with SASL) through its environment, not its command line.
      MEMBER_FIXTURE_SASL: JSON.stringify(testKafkaSasl()),
    });
    const { child, lines } = fixture;
    const logs = (): Array<Record<string, unknown>> =>
      lines.flatMap((line) => {
        if (!line.startsWith('{')) return [];
        return [JSON.parse(line) as Record<string, unknown>];
      });
    const member: Member = {
      child,
      instance,
      lines,
      logs,
      partitions: () =>
        logs()
          .filter((entry) => entry.state === 'connected' && entry.consumer === groupId)
          .map((entry) => entry.partitions as number)
          .pop(),
      go: () => fixture.send('go'),
    };
    members.push(member);
    await fixture.loaded(`the ${instance} process loaded`, 90_000);
    return member;
  }

  const describeGroup = async (groupId: string): Promise<{ state: string; members: string[] }> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [group] = (await admin.describeGroups([groupId])).groups;
      return { state: group.state, members: group.members.map((member) => member.memberId) };
    } finally {
      await admin.disconnect();
    }
  };
  const recorded = (groupId: string): Promise<Array<{ instance_id: string; member_id: string }>> =>
    db.dataSource.query('SELECT instance_id, member_id FROM consumer_group_members WHERE group_id = $1 ORDER BY instance_id', [groupId]);
  const publish = async (count: number): Promise<string[]> => {
    const events = Array.from({ length: count }, (_, i) =>
      createEvent({ definition: ParcelCountedV1, source: 'wallet', subject: `parcel-${uniqueName('p')}`, sequence: 1, data: { quantity: i } }),
    );
    await publisher.publish(events.map((envelope) => ({ topic, envelope })));
    return events.map((event) => event.id);
  };
  const appliedOf = (ids: string[]): Promise<Array<{ event_id: string; pid: number }>> =>
    db.dataSource.query('SELECT event_id, pid FROM applied WHERE event_id = ANY($1::uuid[])', [ids]);

  it('gets every partition back within seconds of the SIGKILL, as the same member, with a 30 s session; nothing lost or applied twice', async () => {
    const groupId = uniqueName('it-members-restart');
    const first = await startMember(groupId, 'replica-a');
    first.go();
    await waitFor(
      () => first.partitions(),
      (n) => n === PARTITIONS,
      { what: 'the first process joined with every partition', timeoutMs: 60_000 },
    );
    const [{ member_id: memberId }] = await waitFor(
      () => recorded(groupId),
      (rows) => rows.length === 1,
      { what: 'its member id recorded', timeoutMs: 10_000 },
    );
    expect((await describeGroup(groupId)).members).toEqual([memberId]);
    const before = await publish(20);
    await waitFor(
      () => appliedOf(before),
      (rows) => rows.length === before.length,
      { what: 'the events before the kill applied', timeoutMs: 30_000 },
    );

    // Its successor is loaded (a restarted service's start-up is not what is measured here), then the kill.
    const restarted = await startMember(groupId, 'replica-a');
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    restarted.go();
    await waitFor(
      () => restarted.partitions(),
      (n) => n === PARTITIONS,
      {
        what: 'the restarted process joined with every partition',
        timeoutMs: SESSION_MS + 30_000,
        intervalMs: 50,
      },
    );
    const backMs = Date.now() - killedAt;
    process.stderr.write(`[instance memberships] partitions back ${backMs} ms after the SIGKILL (session ${SESSION_MS} ms)\n`);
    expect(backMs).toBeLessThan(5_000);
    expect(restarted.logs().some((entry) => String(entry.msg).startsWith("consumer rejoined as its instance's previous member"))).toBe(true);
    expect(await describeGroup(groupId)).toEqual({ state: 'Stable', members: [memberId] });

    // Published after the kill: applied by the restarted process; every event once.
    const after = await publish(20);
    const rows = await waitFor(
      () => appliedOf([...before, ...after]),
      (list) => list.length === before.length + after.length,
      { what: 'the events after the kill applied', timeoutMs: 30_000 },
    );
    expect(new Set(rows.map((row) => row.event_id)).size).toBe(rows.length);
    expect(rows.filter((row) => after.includes(row.event_id)).every((row) => row.pid === restarted.child.pid)).toBe(true);
  }, 240_000);

  it('two instances share the partitions as two members; one stopped cleanly leaves and forgets its id', async () => {
    const groupId = uniqueName('it-members-two');
    const a = await startMember(groupId, 'replica-a');
    const b = await startMember(groupId, 'replica-b');
    a.go();
    b.go();
    await waitFor(
      async () => ({ a: a.partitions(), b: b.partitions(), group: await describeGroup(groupId) }),
      ({ a: pa, b: pb, group }) =>
        group.state === 'Stable' && group.members.length === 2 && (pa ?? 0) >= 1 && (pb ?? 0) >= 1 && (pa ?? 0) + (pb ?? 0) === PARTITIONS,
      { what: 'both instances members, the partitions shared', timeoutMs: 90_000 },
    );
    const rows = await waitFor(
      () => recorded(groupId),
      (list) => list.length === 2,
      { what: 'both member ids recorded', timeoutMs: 10_000 },
    );
    expect(rows.map((row) => row.instance_id)).toEqual(['replica-a', 'replica-b']);
    expect(new Set(rows.map((row) => row.member_id))).toEqual(new Set((await describeGroup(groupId)).members));

    a.child.kill('SIGTERM');
    await waitFor(
      () => a.child.exitCode,
      (code) => code !== null,
      { what: 'replica-a stopped', timeoutMs: 30_000 },
    );
    expect(a.child.exitCode).toBe(0);
    expect((await recorded(groupId)).map((row) => row.instance_id)).toEqual(['replica-b']);
    await waitFor(
      () => b.partitions(),
      (n) => n === PARTITIONS,
      { what: 'replica-b took every partition', timeoutMs: 30_000 },
    );
  }, 240_000);

  it('a second live process given the same instance id joins as a new member: never two processes with one member id', async () => {
    const groupId = uniqueName('it-members-twin');
    const live = await startMember(groupId, 'replica-a');
    live.go();
    await waitFor(
      () => live.partitions(),
      (n) => n === PARTITIONS,
      { what: 'the live process joined', timeoutMs: 60_000 },
    );
    const [{ member_id: liveId }] = await waitFor(
      () => recorded(groupId),
      (rows) => rows.length === 1,
      { what: 'its member id recorded', timeoutMs: 10_000 },
    );
    const twin = await startMember(groupId, 'replica-a');
    twin.go();
    await waitFor(
      async () => ({ live: live.partitions(), twin: twin.partitions(), group: await describeGroup(groupId) }),
      ({ live: pl, twin: pt, group }) => group.state === 'Stable' && group.members.length === 2 && (pl ?? 0) + (pt ?? 0) === PARTITIONS && (pt ?? 0) >= 1,
      { what: 'the twin a second member, the partitions shared', timeoutMs: 90_000 },
    );
    expect(twin.logs().some((entry) => String(entry.msg).includes('another live process holds this instance id'))).toBe(true);
    expect((await describeGroup(groupId)).members).toContain(liveId);
    // The live process's id stays recorded: the twin holds no lock, so writes nothing.
    expect(await recorded(groupId)).toEqual([{ instance_id: 'replica-a', member_id: liveId }]);
  }, 240_000);

  it("joins afresh at once when the predecessor's session already expired (the broker answers UNKNOWN_MEMBER_ID)", async () => {
    const groupId = uniqueName('it-members-stale');
    const sessionMs = 6_000;
    const first = await startMember(groupId, 'replica-c', sessionMs);
    first.go();
    await waitFor(
      () => first.partitions(),
      (n) => n === PARTITIONS,
      { what: 'the first process joined', timeoutMs: 60_000 },
    );
    const [{ member_id: staleId }] = await waitFor(
      () => recorded(groupId),
      (rows) => rows.length === 1,
      { what: 'its member id recorded', timeoutMs: 10_000 },
    );
    first.child.kill('SIGKILL');
    await waitFor(
      () => describeGroup(groupId),
      (group) => group.state === 'Empty',
      { what: 'the dead member dropped', timeoutMs: 30_000 },
    );

    const restarted = await startMember(groupId, 'replica-c', sessionMs);
    const goAt = Date.now();
    restarted.go();
    await waitFor(
      () => restarted.partitions(),
      (n) => n === PARTITIONS,
      { what: 'the restarted process joined', timeoutMs: 30_000, intervalMs: 50 },
    );
    expect(Date.now() - goAt).toBeLessThan(5_000);
    expect(restarted.logs().some((entry) => String(entry.msg).startsWith("the instance's previous member had left or expired"))).toBe(true);
    const [row] = await waitFor(
      () => recorded(groupId),
      (rows) => rows.length === 1 && rows[0].member_id !== staleId,
      { what: 'the new member id recorded', timeoutMs: 10_000 },
    );
    expect((await describeGroup(groupId)).members).toEqual([row.member_id]);
  }, 240_000);
});
