import { ConversationRuleError, decide } from './conversation';

const queued = { status: 'queued', agentId: null } as const;
const claimedByA = { status: 'claimed', agentId: 'a' } as const;

const refusal = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    if (error instanceof ConversationRuleError) return error.code;
    throw error;
  }
  return undefined;
};

describe('conversation rules', () => {
  it('lets one agent claim a queued conversation, and no one else after', () => {
    expect(decide(queued, { kind: 'claim', agentId: 'a' })).toEqual(claimedByA);
    expect(refusal(() => decide(claimedByA, { kind: 'claim', agentId: 'b' }))).toBe('CONVERSATION_NOT_QUEUED');
  });

  it('hands over to a named agent or back to the queue, by the assigned agent only', () => {
    expect(decide(claimedByA, { kind: 'hand-over', agentId: 'a', toAgentId: 'b' })).toEqual({ status: 'claimed', agentId: 'b' });
    expect(decide(claimedByA, { kind: 'hand-over', agentId: 'a' })).toEqual(queued);
    expect(refusal(() => decide(claimedByA, { kind: 'hand-over', agentId: 'b' }))).toBe('CONVERSATION_NOT_YOURS');
    expect(refusal(() => decide(claimedByA, { kind: 'hand-over', agentId: 'a', toAgentId: 'a' }))).toBe('HAND_OVER_TO_SELF');
    expect(refusal(() => decide(queued, { kind: 'hand-over', agentId: 'a' }))).toBe('CONVERSATION_NOT_YOURS');
  });

  it('closes by the assigned agent; a closed conversation is final', () => {
    const closed = decide(claimedByA, { kind: 'close', agentId: 'a', reason: 'resolved' });
    expect(closed).toEqual({ status: 'closed', agentId: 'a' });
    expect(refusal(() => decide(claimedByA, { kind: 'close', agentId: 'b', reason: 'resolved' }))).toBe('CONVERSATION_NOT_YOURS');
    for (const command of [
      { kind: 'claim', agentId: 'b' },
      { kind: 'hand-over', agentId: 'a' },
      { kind: 'close', agentId: 'a', reason: 'resolved' },
    ] as const) {
      expect(refusal(() => decide(closed, command))).toBe('CONVERSATION_CLOSED');
    }
  });
});
