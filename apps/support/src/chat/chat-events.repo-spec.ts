import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '../../../..');

interface AsyncApi {
  channels: Record<string, { messages: Record<string, { $ref: string }> }>;
  components: { messages: Record<string, { name: string; title: string }> };
}

/** The support chat's events docs/asyncapi.yaml documents, by direction (from each message's title). */
function documented(): { client: string[]; server: string[] } {
  const document = parse(readFileSync(resolve(ROOT, 'docs/asyncapi.yaml'), 'utf8')) as AsyncApi;
  const messages = Object.values(document.channels.support_chat.messages).map(
    (ref) => document.components.messages[ref.$ref.replace('#/components/messages/', '')],
  );
  const of = (direction: string): string[] => messages.filter((message) => message.title.includes(direction)).map((message) => message.name);
  return { client: of('(client → server)').sort(), server: of('(server → client)').sort() };
}

/** The events the gateway handles and emits, read from its source (literal event names). */
function implemented(): { client: string[]; server: string[] } {
  const source = readFileSync(resolve(__dirname, 'chat.gateway.ts'), 'utf8');
  const names = (pattern: RegExp): string[] => [...new Set([...source.matchAll(pattern)].map((match) => match[1]))].sort();
  return {
    client: names(/(?:@SubscribeMessage|\bbind)\('([^']+)'/g),
    server: names(/\.emit\('([^']+)'/g),
  };
}

describe("the support chat's WebSocket events in AsyncAPI", () => {
  it('documents every event the gateway handles and emits, and no other', () => {
    const code = implemented();
    // The reading finds what it looks for (a gateway that moved its events elsewhere fails here).
    expect(code.client).toEqual(expect.arrayContaining(['conversation.join', 'message.send']));
    expect(code.server).toEqual(expect.arrayContaining(['message', 'receipt']));
    expect(documented()).toEqual(code);
  });
});
