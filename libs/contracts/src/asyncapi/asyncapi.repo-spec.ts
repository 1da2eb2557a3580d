import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import '../index';
import { eventDefinitions, parseEvent } from '../envelope/event-registry';
import { TOPIC_SPECS } from '../topics';
import { buildAsyncApiDocument } from './asyncapi-document';
import { EXAMPLES } from './examples';

const DOCUMENT = resolve(__dirname, '../../../../docs/asyncapi.yaml');
const HEADER = '# Generated from libs/contracts by `npm run asyncapi`; do not edit by hand.\n';

describe('docs/asyncapi.yaml', () => {
  const generated = HEADER + stringify(buildAsyncApiDocument(EXAMPLES), { lineWidth: 0 });

  it('is current with the contract classes (npm run asyncapi regenerates it)', () => {
    if (process.env.UPDATE_ASYNCAPI === '1') writeFileSync(DOCUMENT, generated);
    expect(readFileSync(DOCUMENT, 'utf8')).toBe(generated);
  });

  it('describes every topic and every event', () => {
    const document = buildAsyncApiDocument(EXAMPLES) as {
      channels: Record<string, { address: string }>;
      components: { messages: Record<string, { name: string }> };
    };
    const addresses = Object.values(document.channels).map((channel) => channel.address);
    for (const topic of TOPIC_SPECS) expect(addresses).toContain(topic.name);
    const names = Object.values(document.components.messages).map((message) => message.name);
    for (const definition of eventDefinitions()) expect(names).toContain(definition.type);
  });

  it('has no dangling $ref: every schema it points to is in the document', () => {
    const document = buildAsyncApiDocument(EXAMPLES) as Record<string, unknown>;
    const refs = new Set<string>();
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') refs.add(value);
        else walk(value);
      }
    };
    walk(document);
    const resolve = (ref: string): unknown =>
      ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
    expect([...refs].filter((ref) => resolve(ref) === undefined)).toEqual([]);
  });

  it("says for every message what its subject and Kafka key are; a purchase request's are its requestId", () => {
    const document = buildAsyncApiDocument(EXAMPLES) as {
      components: {
        messages: Record<
          string,
          {
            name: string;
            bindings?: { kafka: { key: { description: string } } };
            payload: { allOf: { properties?: { subject?: { description?: string } } }[] };
          }
        >;
      };
    };
    // Kafka messages (the support chat's WebSocket events have no key).
    const kafkaMessages = Object.values(document.components.messages).filter((message) => message.bindings?.kafka);
    expect(kafkaMessages.length).toBeGreaterThan(30);
    for (const message of kafkaMessages) {
      const subject = message.payload.allOf[1].properties?.subject?.description ?? '';
      expect({ message: message.name, documented: subject.length > 20 }).toEqual({ message: message.name, documented: true });
      expect(message.bindings!.kafka.key.description).toContain(subject);
    }
    const purchase = Object.values(document.components.messages).find((message) => message.name === 'payments.purchase.requested');
    expect(purchase?.payload.allOf[1].properties?.subject?.description).toMatch(/^The request's `data\.requestId`, and the Kafka key the same string/);
    const example = EXAMPLES['payments.purchase.requested'] as { subject: string; data: { requestId: string } };
    expect(example.subject).toBe(example.data.requestId);
  });

  it("documents the support chat's WebSocket: what clients send (from the contract classes) and what the server emits", () => {
    const document = buildAsyncApiDocument(EXAMPLES) as {
      channels: Record<string, { address: string; messages: Record<string, unknown> }>;
      components: { messages: Record<string, { name: string; payload: { $ref?: string } }> };
    };
    const chat = document.channels.support_chat;
    expect(chat.address).toBe('/support');
    const names = Object.keys(chat.messages).map((key) => document.components.messages[key].name);
    expect(names.sort()).toEqual([
      'conversation.assigned',
      'conversation.join',
      'conversation.leave',
      'conversation.updated',
      'message',
      'message.receipt',
      'message.send',
      'receipt',
    ]);
    expect(document.components.messages.SupportChatMessageSend.payload.$ref).toBe('#/components/schemas/SendChatMessage');
  });

  it('gives the purchase request a schema an outside team can publish from, and its example is accepted', () => {
    const document = buildAsyncApiDocument(EXAMPLES) as {
      components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
    };
    const purchase = document.components.schemas.PurchaseRequested;
    expect(purchase.required).toEqual(expect.arrayContaining(['requestId', 'kind', 'payerId', 'counterparty', 'app', 'country', 'amount']));
    expect(document.components.schemas.Money.properties.amount).toMatchObject({ type: 'string', pattern: '^(0|[1-9][0-9]{0,17})$' });
    for (const example of Object.values(EXAMPLES)) expect(() => parseEvent(example)).not.toThrow();
  });
});
