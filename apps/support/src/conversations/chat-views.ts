import type { ConversationView, MessageView, Party } from '@pay/contracts';

/** The rows of the chat's tables, and the views of them clients see (libs/contracts, docs/support-chat.md). */

export interface ConversationRow {
  id: string;
  person_id: string;
  country: string;
  app: string;
  payment_id: string | null;
  status: 'queued' | 'claimed' | 'closed';
  agent_id: string | null;
  opened_at: Date;
  claimed_at: Date | null;
  closed_at: Date | null;
  close_reason: string | null;
  last_seq: number;
  events: number;
  person_delivered_seq: number;
  person_read_seq: number;
  agent_delivered_seq: number;
  agent_read_seq: number;
}

export interface MessageRow {
  conversation_id: string;
  seq: number;
  id: string;
  client_message_id: string;
  author_role: Party;
  author_id: string;
  body: string;
  masked: string[];
  sent_at: Date | string;
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

export function conversationView(row: ConversationRow): ConversationView {
  return {
    id: row.id,
    personId: row.person_id,
    country: row.country,
    app: row.app,
    paymentId: row.payment_id,
    status: row.status,
    agentId: row.agent_id,
    openedAt: iso(row.opened_at)!,
    claimedAt: iso(row.claimed_at),
    closedAt: iso(row.closed_at),
    closeReason: row.close_reason,
    lastSeq: row.last_seq,
    receipts: {
      person: { deliveredSeq: row.person_delivered_seq, readSeq: row.person_read_seq },
      agent: { deliveredSeq: row.agent_delivered_seq, readSeq: row.agent_read_seq },
    },
  };
}

export function messageView(row: MessageRow): MessageView {
  return {
    conversationId: row.conversation_id,
    seq: row.seq,
    id: row.id,
    clientMessageId: row.client_message_id,
    author: { role: row.author_role, id: row.author_id },
    text: row.body,
    masked: row.masked,
    sentAt: iso(row.sent_at)!,
  };
}
