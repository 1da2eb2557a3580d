import 'reflect-metadata';
import { IsIn, IsISO31661Alpha2, IsOptional, IsUUID } from 'class-validator';
import { defineEvent } from '../envelope/event-registry';
import { IsOpaqueId } from '../envelope/ids';
import { IsMoney, Money } from '../envelope/money';
import { APPS } from '../payments/purchase-requested';
import type { AppName } from '../payments/purchase-requested';
import { Topics } from '../topics';

/**
 * `support.events.v1`: what the support service decided, keyed by conversation id, with the
 * envelope's `sequence` counting the conversation's events. Ids, codes and amounts only: never
 * message text (which stays in the support service's own schema, for its retention period).
 */

/** Why an agent closed a conversation. */
export const CONVERSATION_CLOSE_REASONS = ['resolved', 'refunded', 'no_response', 'duplicate', 'out_of_scope', 'abusive'] as const;
export type ConversationCloseReason = (typeof CONVERSATION_CLOSE_REASONS)[number];

/** Refund reasons an agent may give (those payment-orchestration accepts from a caller). */
export const SUPPORT_REFUND_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent'] as const;
export type SupportRefundReason = (typeof SUPPORT_REFUND_REASONS)[number];

abstract class SupportEventData {
  @IsUUID()
  conversationId!: string;
}

export class SupportConversationOpened extends SupportEventData {
  @IsOpaqueId()
  personId!: string;

  @IsISO31661Alpha2()
  country!: string;

  @IsIn(APPS)
  app!: AppName;

  /** The payment the conversation is about, when the person named one. */
  @IsOptional()
  @IsOpaqueId()
  paymentId?: string;
}

export class SupportConversationClosed extends SupportEventData {
  /** The agent who closed it (their token's subject). */
  @IsOpaqueId()
  agentId!: string;

  @IsIn(CONVERSATION_CLOSE_REASONS)
  reason!: ConversationCloseReason;
}

/** An agent asked payment-orchestration for a refund of the payment the conversation is about, and it was accepted. */
export class SupportRefundRequested extends SupportEventData {
  @IsOpaqueId()
  agentId!: string;

  @IsOpaqueId()
  paymentId!: string;

  /** payment-orchestration's id of the refund (`payments.payment.refund-requested` carries it too). */
  @IsOpaqueId()
  refundId!: string;

  @IsMoney()
  amount!: Money;

  @IsIn(SUPPORT_REFUND_REASONS)
  reason!: SupportRefundReason;
}

const support = <T extends object>(type: string, dataClass: new () => T, description: string) =>
  defineEvent({ type, version: 1, topic: Topics.supportEvents, dataClass, description });

export const SupportConversationOpenedV1 = support(
  'support.conversation.opened',
  SupportConversationOpened,
  'A person opened a support conversation (where chat is rolled out), optionally about one of their payments.',
);
export const SupportConversationClosedV1 = support('support.conversation.closed', SupportConversationClosed, 'An agent closed a conversation, with a reason.');
export const SupportRefundRequestedV1 = support(
  'support.refund.requested',
  SupportRefundRequested,
  "An agent started a refund of the conversation's payment, within what the payment still allows; payment-orchestration accepted it.",
);

export const SUPPORT_EVENTS = [SupportConversationOpenedV1, SupportConversationClosedV1, SupportRefundRequestedV1] as const;
