import type { RecordMetadata } from 'kafkajs';
import { unwrittenPartitions } from './acknowledgements';

const ack = (partition: number, baseOffset: string, errorCode = 0): RecordMetadata => ({ topicName: 't', partition, errorCode, baseOffset });

describe('unwrittenPartitions', () => {
  it('proves a send whose every routed partition is answered past what it was given before, and remembers the offsets', () => {
    const highest = new Map<string, bigint>([['t[0]', 4n]]);
    const routed = [
      { topic: 't', partition: 0 },
      { topic: 't', partition: 0 },
      { topic: 't', partition: 2 },
    ];
    expect(unwrittenPartitions(routed, [ack(0, '5'), ack(2, '0')], highest)).toEqual([]);
    expect(highest).toEqual(
      new Map([
        ['t[0]', 5n],
        ['t[2]', 0n],
      ]),
    );
  });

  it('refuses an answer whose offset does not move (a batch the broker took for a duplicate: nothing written), and forgets that partition', () => {
    const highest = new Map<string, bigint>([
      ['t[0]', 40n],
      ['t[1]', 7n],
    ]);
    expect(
      unwrittenPartitions(
        [
          { topic: 't', partition: 0 },
          { topic: 't', partition: 1 },
        ],
        [ack(0, '40'), ack(1, '12')],
        highest,
      ),
    ).toEqual(['t[0]: acknowledged at offset 40, not past 40 acknowledged before']);
    expect(highest).toEqual(new Map([['t[1]', 12n]]));
    // Forgotten: the next answer for it (a new producer's write, or a topic created again from 0) sets it anew.
    expect(unwrittenPartitions([{ topic: 't', partition: 0 }], [ack(0, '3')], highest)).toEqual([]);
    expect(highest.get('t[0]')).toBe(3n);
  });

  it('refuses a send with a routed partition left unanswered, an error code, no offset, or a message never routed', () => {
    const highest = new Map<string, bigint>();
    const routed = [
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
      { topic: 't', partition: 2 },
      { topic: 'u', partition: 0 },
      { topic: 't', partition: undefined },
    ];
    const answers: RecordMetadata[] = [
      ack(1, '9', 6),
      { topicName: 't', partition: 2, errorCode: 0 },
      { topicName: 'u', partition: 0, errorCode: 0, baseOffset: '1' },
    ];
    expect(unwrittenPartitions(routed, answers, highest)).toEqual([
      't: a message was never routed to a partition',
      't[0]: no acknowledgement',
      't[1]: error code 6',
      't[2]: no base offset',
    ]);
    expect(highest).toEqual(new Map([['u[0]', 1n]]));
  });

  it('proves nothing for an empty answer to a send that routed messages (a client that sent no request)', () => {
    expect(unwrittenPartitions([{ topic: 't', partition: 3 }], [], new Map())).toEqual(['t[3]: no acknowledgement']);
  });
});
