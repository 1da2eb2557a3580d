/**
 * What clients see of the support chat, over HTTP and the WebSocket alike (docs/support-chat.md):
 * the support service answers these, the Pay Hub's desk reads them. Plain types without imports,
 * so the web app takes them alone (`@pay/contracts/support-chat-views`).
 */

export type Party = 'person' | 'agent';

export interface MessageView {
  conversationId: string;
  /** Position in the conversation: 1, 2, 3 … without gaps. */
  seq: number;
  id: string;
  /** The sender's own id for the message (its retry key). */
  clientMessageId: string;
  author: { role: Party; id: string };
  text: string;
  /** What was masked in the text before it was stored (`iban`). */
  masked: string[];
  sentAt: string;
}

export interface ReceiptView {
  conversationId: string;
  /** Whose receipt: that party has received (delivered) and read every message up to these positions. */
  party: Party;
  deliveredSeq: number;
  readSeq: number;
}

export interface ConversationView {
  id: string;
  personId: string;
  country: string;
  app: string;
  paymentId: string | null;
  status: 'queued' | 'claimed' | 'closed';
  agentId: string | null;
  openedAt: string;
  claimedAt: string | null;
  closedAt: string | null;
  closeReason: string | null;
  lastSeq: number;
  receipts: { person: { deliveredSeq: number; readSeq: number }; agent: { deliveredSeq: number; readSeq: number } };
}

/** A conversation in the agents' queue, with how long it has waited for one. */
export interface QueuedConversationView extends ConversationView {
  waitingSeconds: number;
}
