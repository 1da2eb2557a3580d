import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, MaxLength, Min } from 'class-validator';

/**
 * What clients send on the support chat's WebSocket (socket.io namespace `/support`, see
 * docs/support-chat.md), validated by the support service as it arrives. docs/asyncapi.yaml
 * documents them with what the server emits.
 */

/**
 * `conversation.join` (and `conversation.leave`): receive a conversation's messages after `afterSeq`
 * (default: after what this party last confirmed delivered).
 */
export class JoinConversation {
  @IsUUID()
  conversationId!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  afterSeq?: number;
}

/** `message.send`: the sender's own id makes a retry harmless (the same message is answered, stored once). */
export class SendChatMessage {
  @IsUUID()
  conversationId!: string;

  @IsUUID()
  clientMessageId!: string;

  /** Screened before storage: a card number or PIN is refused, an IBAN masked. At most SUPPORT_MAX_MESSAGE_LENGTH characters. */
  @IsString()
  @MaxLength(16_000)
  // PostgreSQL text cannot hold U+0000: refused here with a reason rather than failing storage (TRY_AGAIN for ever).
  // eslint-disable-next-line no-control-regex -- the control character is what the pattern refuses
  @Matches(/^[^\u0000]*$/, { message: 'must not contain the NUL character (U+0000)' })
  text!: string;
}

/** `message.receipt`: every message up to `seq` was delivered to (or read by) the sender of the receipt. */
export class SendChatReceipt {
  @IsUUID()
  conversationId!: string;

  @IsIn(['delivered', 'read'])
  kind!: 'delivered' | 'read';

  @IsInt()
  @Min(1)
  seq!: number;
}
