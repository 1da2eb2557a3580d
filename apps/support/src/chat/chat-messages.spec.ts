import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { JoinConversation, provenValid, SendChatMessage, SendChatReceipt } from '@pay/contracts';
import { parseChatMessage } from './chat-messages';

const id = randomUUID();
const payloads: Record<string, unknown[]> = {
  JoinConversation: [
    { conversationId: id },
    { conversationId: id, afterSeq: 0 },
    { conversationId: id, afterSeq: 12 },
    { conversationId: id, afterSeq: null },
    { conversationId: id, afterSeq: -1 },
    { conversationId: id, afterSeq: 1.5 },
    { conversationId: id, afterSeq: '3' },
    { conversationId: 'not-a-uuid' },
    {},
    { conversationId: id, extra: 1 },
  ],
  SendChatMessage: [
    { conversationId: id, clientMessageId: randomUUID(), text: 'hello' },
    { conversationId: id, clientMessageId: randomUUID(), text: '' },
    { conversationId: id, clientMessageId: randomUUID(), text: 'x'.repeat(16_000) },
    { conversationId: id, clientMessageId: randomUUID(), text: 'x'.repeat(16_001) },
    { conversationId: id, clientMessageId: randomUUID(), text: 'nul \u0000 inside' },
    { conversationId: id, clientMessageId: randomUUID(), text: 42 },
    { conversationId: id, clientMessageId: randomUUID(), text: ['hello'] },
    { conversationId: id, clientMessageId: 'x', text: 'hello' },
    { conversationId: id, text: 'hello' },
    { conversationId: id, clientMessageId: randomUUID(), text: 'hello', extra: true },
    { conversationId: id, clientMessageId: randomUUID(), text: 'hello', constructor: 'x' },
  ],
  SendChatReceipt: [
    { conversationId: id, kind: 'read', seq: 1 },
    { conversationId: id, kind: 'delivered', seq: 3 },
    { conversationId: id, kind: 'seen', seq: 3 },
    { conversationId: id, kind: 'read', seq: 0 },
    { conversationId: id, kind: 'read', seq: '1' },
    { conversationId: id, kind: 'read' },
  ],
};
const types = { JoinConversation, SendChatMessage, SendChatReceipt } as const;

describe('chat payloads: the fast path (provenValid) decides as validateSync does', () => {
  it.each(Object.entries(payloads).flatMap(([name, list]) => list.map((payload) => [name, JSON.stringify(payload).slice(0, 120), payload] as const)))(
    '%s %s: decides as validateSync (whitelist, forbidNonWhitelisted) does',
    (name, _label, payload) => {
      const type = types[name as keyof typeof types] as new () => object;
      const value = plainToInstance<object, unknown>(type, payload);
      const expected = validateSync(value, { whitelist: true, forbidNonWhitelisted: true }).length === 0;
      // provenValid never says yes where validateSync says no; for these plain payloads it always answers.
      expect(provenValid(value, { whitelist: true, forbidNonWhitelisted: true })).toBe(expected);
      // parseChatMessage: the instance when valid, else the refusal with validateSync's details.
      const parsed = parseChatMessage(type, payload);
      if (expected) expect(parsed).toBeInstanceOf(type);
      else expect(parsed).toMatchObject({ ok: false, code: 'INVALID_MESSAGE', details: expect.any(Array) });
    },
  );
});
