import { plainToInstance } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, MaxLength, Min, validateSync } from 'class-validator';
import { flattenValidationErrors } from '@pay/contracts';

/** `conversation.join`: start receiving a conversation's messages after `afterSeq` (default: after what this party last confirmed received). */
export class JoinConversation {
  @IsUUID()
  conversationId!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  afterSeq?: number;
}

/** `message.send`: the sender's own id makes a retry harmless (the same message is answered, stored once). */
export class SendMessage {
  @IsUUID()
  conversationId!: string;

  @IsUUID()
  clientMessageId!: string;

  @IsString()
  @MaxLength(16_000)
  text!: string;
}

/** `message.receipt`: every message up to `seq` was delivered to (or read by) the sender of the receipt. */
export class SendReceipt {
  @IsUUID()
  conversationId!: string;

  @IsIn(['delivered', 'read'])
  kind!: 'delivered' | 'read';

  @IsInt()
  @Min(1)
  seq!: number;
}

export type ChatRefusal = { ok: false; code: string; message: string; details?: string[] };
export type ChatAck<T extends object = Record<string, unknown>> = ({ ok: true } & T) | ChatRefusal;

/** Validates a client's WebSocket payload: the instance, or the refusal to acknowledge with. */
export function parseChatMessage<T extends object>(type: new () => T, body: unknown): T | ChatRefusal {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, code: 'INVALID_MESSAGE', message: 'the payload must be a JSON object' };
  const value = plainToInstance(type, body);
  const problems = flattenValidationErrors(validateSync(value, { whitelist: true, forbidNonWhitelisted: true }));
  if (problems.length > 0) return { ok: false, code: 'INVALID_MESSAGE', message: 'the payload is not valid', details: problems };
  return value;
}
