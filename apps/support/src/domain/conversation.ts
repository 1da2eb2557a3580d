import type { ConversationCloseReason } from '@pay/contracts';

export type ConversationStatus = 'queued' | 'claimed' | 'closed';

/** A conversation as the agents' rules see it. */
export interface ConversationState {
  readonly status: ConversationStatus;
  /** The agent it is assigned to (claimed only). */
  readonly agentId: string | null;
}

export type AgentCommand =
  | { readonly kind: 'claim'; readonly agentId: string }
  | { readonly kind: 'hand-over'; readonly agentId: string; readonly toAgentId?: string }
  | { readonly kind: 'close'; readonly agentId: string; readonly reason: ConversationCloseReason };

export class ConversationRuleError extends Error {
  override name = 'ConversationRuleError';
  constructor(
    readonly code: 'CONVERSATION_NOT_QUEUED' | 'CONVERSATION_NOT_YOURS' | 'CONVERSATION_CLOSED' | 'HAND_OVER_TO_SELF',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The agents' rules: a queued conversation is claimed by one agent; only that agent hands it over
 * (to a named agent, or back to the queue) or closes it (with a reason). A closed conversation is final.
 * Returns the next state or throws ConversationRuleError. Plain rules, no I/O.
 */
export function decide(state: ConversationState, command: AgentCommand): ConversationState {
  if (state.status === 'closed') throw new ConversationRuleError('CONVERSATION_CLOSED', 'the conversation is closed');
  switch (command.kind) {
    case 'claim':
      if (state.status !== 'queued') throw new ConversationRuleError('CONVERSATION_NOT_QUEUED', 'another agent has claimed the conversation');
      return { status: 'claimed', agentId: command.agentId };
    case 'hand-over':
      assertAssigned(state, command.agentId);
      if (command.toAgentId === command.agentId) throw new ConversationRuleError('HAND_OVER_TO_SELF', 'the conversation is already yours');
      return command.toAgentId === undefined ? { status: 'queued', agentId: null } : { status: 'claimed', agentId: command.toAgentId };
    case 'close':
      assertAssigned(state, command.agentId);
      return { status: 'closed', agentId: state.agentId };
  }
}

function assertAssigned(state: ConversationState, agentId: string): void {
  if (state.status !== 'claimed' || state.agentId !== agentId) {
    throw new ConversationRuleError('CONVERSATION_NOT_YOURS', 'only the agent the conversation is assigned to may do this; claim it first');
  }
}
