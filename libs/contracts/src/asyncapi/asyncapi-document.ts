import { getMetadataStorage } from 'class-validator';
import { targetConstructorToSchema, validationMetadatasToSchemas } from 'class-validator-jsonschema';
import type { IOptions } from 'class-validator-jsonschema/build/options';
import type { EventDefinition } from '../envelope/event-registry';
import { eventDefinitions } from '../envelope/event-registry';
import { DLQ_PARTITIONS, TOPIC_SPECS, Topics, deadLetterTopicOf } from '../topics';
import { FUNDS_COMMAND_ATTESTATION_HEADER } from '../wallet-funds/wallet-funds';

type Schema = Record<string, unknown>;

// class-transformer keeps its @Type metadata here; nested schemas need it. The package ships
// this module without an `exports` type entry, hence the typed require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as typeof import('class-transformer/types/storage');

/** Constraints the schema library does not know, said in JSON Schema. */
const converters: IOptions['additionalConverters'] = {
  isISO4217CurrencyCode: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO-4217 currency code' },
  isISO31661Alpha2: { type: 'string', pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 country code' },
  isStringMap: { type: 'object', additionalProperties: { type: 'string' } },
};

/**
 * Fields kept on the wire only while producers move to their new name: marked deprecated in the
 * document (a decorator would need the schema library at run time, where it is not installed).
 */
const DEPRECATED_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  PurchaseRequested: { personId: 'Former name of payerId, read as payerId when that is absent; send payerId.' },
};

const messageName = (definition: EventDefinition): string =>
  definition.type
    .split(/[.-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('') + `V${definition.version}`;

const channelName = (topic: string): string => topic.replace(/[^A-Za-z0-9]+/g, '_');

/**
 * What the envelope's `subject` (and so the Kafka key) is, per topic, and where one event type
 * differs from its topic. A producer reads here what to put there; a consumer, what it orders by.
 */
const SUBJECT_BY_TOPIC: Readonly<Record<string, string>> = {
  'payments.purchase-requests.v1':
    "The request's `data.requestId`, and the Kafka key the same string: every retry of one request lands on one partition and is deduplicated by requestId.",
  'payments.events.v1': "The payment id (`data.paymentId`): one payment's events stay in order on one partition.",
  'ledger.transactions.v1':
    'The payment the entry belongs to (its payment link), else the reservation, else the reversed transaction, else its own transaction id (ledgerEventSubject).',
  'wallet.events.v1': "The person's id (`data.personId`, the id a payment names as its `payerId`); for funds replies (wallet.funds.*), the payment id.",
  'wallet.commands.v1': 'The payment id the funds command is for.',
  'ad-signals.aggregates.v1': "The aggregate's series id (`data.seriesId`): one series' windows in order.",
  'support.events.v1': "The conversation id (`data.conversationId`): one conversation's events in order, `sequence` counting them.",
};
const SUBJECT_BY_EVENT: Readonly<Record<string, string>> = {
  'payments.payment.rejected': "The request's `data.requestId` (the request was refused before a payment existed), so the answer is keyed like the request.",
  'wallet.funds.posted': 'The payment id the funds command was for (the answer is keyed like the command).',
  'wallet.funds.reserved': 'The payment id the funds command was for (the answer is keyed like the command).',
  'wallet.funds.voided': 'The payment id the funds command was for (the answer is keyed like the command).',
  'wallet.funds.rejected': 'The payment id the funds command was for (the answer is keyed like the command).',
};

/** What `subject` and the Kafka key are for one event type. */
export function subjectOf(definition: EventDefinition): string {
  const subject = SUBJECT_BY_EVENT[definition.type] ?? SUBJECT_BY_TOPIC[definition.topic];
  if (!subject) throw new Error(`no subject documented for ${definition.type} on ${definition.topic}: add it to SUBJECT_BY_TOPIC`);
  return subject;
}

/** Topics the platform reads from outside (apps publish there); the rest it publishes. */
const RECEIVED_FROM_OUTSIDE = new Set(['payments.purchase-requests.v1']);

/** The headers every message carries (the publisher sets them); new objects each time, so the YAML repeats them rather than aliasing them. */
const kafkaHeaders = (): Schema => ({
  traceparent: { type: 'string', description: 'W3C trace context' },
  tracestate: { type: 'string' },
  'event-type': { type: 'string' },
  'event-id': { type: 'string', format: 'uuid' },
});

/** The headers' schema of a topic's messages: apps' requests carry their sender's token, funds commands orchestration's attestation. */
function headersOf(topic: string): string {
  if (RECEIVED_FROM_OUTSIDE.has(topic)) return 'AppRequestHeaders';
  return topic === Topics.walletCommands ? 'FundsCommandHeaders' : 'KafkaHeaders';
}

function envelopeSchemaFor(definition: EventDefinition): Schema {
  return {
    allOf: [
      { $ref: '#/components/schemas/EventEnvelope' },
      {
        type: 'object',
        properties: {
          subject: { type: 'string', description: subjectOf(definition) },
          type: { const: definition.type },
          version: { const: definition.version },
          data: { $ref: `#/components/schemas/${definition.dataClass.name}` },
        },
      },
    ],
  };
}

/**
 * The AsyncAPI 3 document of every topic and event, generated from the contract classes so
 * it cannot drift from what the services validate. `docs/asyncapi.yaml` is its checked-in copy.
 */
export function buildAsyncApiDocument(examples: Record<string, unknown> = {}): Schema {
  const options = {
    refPointerPrefix: '#/components/schemas/',
    classTransformerMetadataStorage: defaultMetadataStorage,
    classValidatorMetadataStorage: getMetadataStorage(),
    additionalConverters: converters,
  };
  const schemas = validationMetadatasToSchemas(options) as Record<string, Schema>;
  const definitions = eventDefinitions()
    .filter((definition) => !definition.type.startsWith('test.'))
    .sort((a, b) => `${a.topic} ${a.type} ${a.version}`.localeCompare(`${b.topic} ${b.type} ${b.version}`));
  // A data class that only inherits its fields has no metadata of its own: build it from its parents.
  for (const { dataClass } of definitions) {
    schemas[dataClass.name] ??= targetConstructorToSchema(dataClass, options) as Schema;
  }

  for (const [schemaName, fields] of Object.entries(DEPRECATED_FIELDS)) {
    const properties = schemas[schemaName]?.properties as Record<string, Schema> | undefined;
    for (const [field, description] of Object.entries(fields))
      if (properties?.[field]) properties[field] = { ...properties[field], deprecated: true, description };
  }

  const messages: Schema = {};
  for (const definition of definitions) {
    const name = messageName(definition);
    const example = examples[definition.type];
    messages[name] = {
      name: definition.type,
      title: `${definition.type} v${definition.version}`,
      summary: definition.description,
      contentType: 'application/json',
      headers: { $ref: `#/components/schemas/${headersOf(definition.topic)}` },
      payload: envelopeSchemaFor(definition),
      description: `subject and Kafka key: ${subjectOf(definition)}`,
      bindings: { kafka: { key: { type: 'string', description: `Equal to the envelope's subject: ${subjectOf(definition)}` } } },
      ...(example ? { examples: [{ name: 'example', payload: example }] } : {}),
    };
  }

  const channels: Schema = {};
  const operations: Schema = {};
  for (const topic of TOPIC_SPECS) {
    const channel = channelName(topic.name);
    const own = definitions.filter((definition) => definition.topic === topic.name);
    const refs = Object.fromEntries(own.map((definition) => [messageName(definition), { $ref: `#/components/messages/${messageName(definition)}` }]));
    channels[channel] = {
      address: topic.name,
      description: topic.description,
      messages: refs,
      bindings: { kafka: { partitions: topic.partitions, topicConfiguration: { 'cleanup.policy': ['delete'] } } },
    };
    if (own.length > 0) {
      const receive = RECEIVED_FROM_OUTSIDE.has(topic.name);
      operations[`${receive ? 'receive' : 'send'}_${channel}`] = {
        action: receive ? 'receive' : 'send',
        channel: { $ref: `#/channels/${channel}` },
        summary: receive ? `Apps publish here; the platform consumes.` : `The platform publishes here.`,
        messages: own.map((definition) => ({ $ref: `#/channels/${channel}/messages/${messageName(definition)}` })),
      };
    }
    if (topic.consumed) {
      const dlq = deadLetterTopicOf(topic.name);
      channels[channelName(dlq)] = {
        address: dlq,
        description: `Dead letters of ${topic.name}: the original key, value and headers, plus dlq-reason, dlq-original-topic, dlq-original-partition, dlq-original-offset, dlq-consumer, dlq-attempts, dlq-failed-at.`,
        bindings: { kafka: { partitions: DLQ_PARTITIONS } },
      };
    }
  }

  addSupportChat(channels, operations, messages, schemas);

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Pay platform events',
      version: '1.0.0',
      description:
        'Every event on every topic is one JSON envelope (EventEnvelope). Amounts are integer minor units written as strings, with an ISO-4217 currency. The Kafka key is the envelope subject; W3C trace context travels in the traceparent and tracestate headers.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: { host: '127.0.0.1:9092', protocol: 'kafka', description: 'The broker `npm run infra:up` starts.' },
      'support-chat': {
        host: '127.0.0.1:3005',
        pathname: '/support',
        protocol: 'ws',
        description:
          'The support service’s chat: socket.io (v4) namespace /support on its HTTP port, authenticated with an access token (auth.token). docs/support-chat.md.',
      },
    },
    channels,
    operations,
    components: {
      messages,
      schemas: {
        ...schemas,
        KafkaHeaders: { type: 'object', properties: kafkaHeaders() },
        FundsCommandHeaders: {
          type: 'object',
          required: [FUNDS_COMMAND_ATTESTATION_HEADER],
          properties: {
            [FUNDS_COMMAND_ATTESTATION_HEADER]: {
              type: 'string',
              description:
                "payment-orchestration's attestation of exactly this command: a JWS (typ funds-command+jwt) signed with its own key, whose grant in AUTH_KEY_GRANTS holds funds:command, with the whole envelope as its `command` claim, good for 7 days. The wallet dead-letters a command without a valid one, with the reason, and moves nothing (docs/security.md).",
            },
            ...kafkaHeaders(),
          },
        },
        AppRequestHeaders: {
          type: 'object',
          required: ['authorization'],
          properties: {
            authorization: {
              type: 'string',
              pattern: '^Bearer [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
              description:
                "`Bearer <access token>`: the sending app backend's token (role service, scope payments:initiate, `app` claim = data.app), as over HTTP. The platform authenticates the sender with it and limits each sender's requests; a request without a valid one is dead-lettered with the reason. Never copied into dead letters.",
            },
            'sender-attestation': {
              type: 'string',
              description:
                "Not sent by apps. payment-orchestration's signed statement of a dead-lettered request's verified sender (subject, app, scopes, when verified, SHA-256 of the record's value), added to its dead letter; `npm run dlq:replay` re-sends the request with it and an operator's token in `authorization`, and the request then counts as the attested sender's (docs/operations.md).",
            },
            ...kafkaHeaders(),
          },
        },
      },
    },
  };
}

const CONVERSATION_ID = { type: 'string', format: 'uuid' };
const SEQ = { type: 'integer', minimum: 1, description: 'Position in the conversation: 1, 2, 3 … without gaps' };

/** What the support chat's server emits (the support service builds these; they are not validated classes). */
const SUPPORT_CHAT_SERVER_EVENTS: Readonly<Record<string, { summary: string; payload: Schema }>> = {
  message: {
    summary: 'A stored message of a joined conversation: every one once, in position order (the sender gets its own too).',
    payload: {
      type: 'object',
      required: ['conversationId', 'seq', 'id', 'clientMessageId', 'author', 'text', 'masked', 'sentAt'],
      properties: {
        conversationId: CONVERSATION_ID,
        seq: SEQ,
        id: { type: 'string', format: 'uuid' },
        clientMessageId: { type: 'string', format: 'uuid' },
        author: { type: 'object', properties: { role: { enum: ['person', 'agent'] }, id: { type: 'string' } } },
        text: { type: 'string', description: 'As stored: an IBAN is masked (`[IBAN DE…3000]`); card numbers and PINs are never stored' },
        masked: { type: 'array', items: { enum: ['iban'] } },
        sentAt: { type: 'string', format: 'date-time' },
      },
    },
  },
  receipt: {
    summary: "A party's receipts moved: it received (delivered) and read every message up to these positions.",
    payload: {
      type: 'object',
      properties: { conversationId: CONVERSATION_ID, party: { enum: ['person', 'agent'] }, deliveredSeq: { type: 'integer' }, readSeq: { type: 'integer' } },
    },
  },
  'conversation.updated': {
    summary: 'A joined conversation was claimed, handed over or closed (status, agentId, closeReason); an agent it left stops receiving it.',
    payload: { type: 'object', properties: { id: CONVERSATION_ID, status: { enum: ['queued', 'claimed', 'closed'] }, agentId: { type: ['string', 'null'] } } },
  },
  'conversation.assigned': {
    summary: "To an agent's sockets: a conversation was handed to them.",
    payload: { type: 'object', properties: { id: CONVERSATION_ID, status: { const: 'claimed' }, agentId: { type: 'string' } } },
  },
};

/** What clients send, from the contract classes (libs/contracts/src/support/support-chat.ts). */
const SUPPORT_CHAT_CLIENT_EVENTS: Readonly<Record<string, { summary: string; schema: string }>> = {
  'conversation.join': {
    summary: 'Receive a conversation’s messages after afterSeq, then live; acknowledged { ok, conversation }.',
    schema: 'JoinConversation',
  },
  'conversation.leave': { summary: 'Stop receiving a conversation; acknowledged { ok }.', schema: 'JoinConversation' },
  'message.send': {
    summary:
      'Send a message; acknowledged { ok, message, replayed } once stored, or { ok: false, code } (MESSAGE_HAS_CARD_NUMBER, MESSAGE_HAS_PIN, CONVERSATION_CLOSED, NOT_FOUND, …). Sent without an acknowledgement callback, the answer comes back as a message.send event.',
    schema: 'SendChatMessage',
  },
  'message.receipt': {
    summary:
      'Confirm delivery (or reading) of every message up to seq; acknowledged { ok }. Sent without an acknowledgement callback, the answer comes back as a message.receipt event.',
    schema: 'SendChatReceipt',
  },
};

/** The support chat's WebSocket: one channel, client and server events as socket.io event names. */
function addSupportChat(channels: Schema, operations: Schema, messages: Schema, schemas: Record<string, Schema>): void {
  const name = (event: string): string => `SupportChat${event.replace(/(^|[.-])([a-z])/g, (_m, _s, c: string) => c.toUpperCase())}`;
  const refs: Schema = {};
  for (const [event, { summary, schema }] of Object.entries(SUPPORT_CHAT_CLIENT_EVENTS)) {
    if (!schemas[schema]) throw new Error(`no schema for the support chat's ${event}: ${schema}`);
    messages[name(event)] = { name: event, title: `${event} (client → server)`, summary, payload: { $ref: `#/components/schemas/${schema}` } };
    refs[name(event)] = { $ref: `#/components/messages/${name(event)}` };
  }
  for (const [event, { summary, payload }] of Object.entries(SUPPORT_CHAT_SERVER_EVENTS)) {
    messages[name(event)] = { name: event, title: `${event} (server → client)`, summary, payload };
    refs[name(event)] = { $ref: `#/components/messages/${name(event)}` };
  }
  channels.support_chat = {
    address: '/support',
    servers: [{ $ref: '#/servers/support-chat' }],
    description: 'The support chat (socket.io namespace /support): socket.io event names are the message names.',
    messages: refs,
  };
  operations.receive_support_chat = {
    action: 'receive',
    channel: { $ref: '#/channels/support_chat' },
    summary: 'Clients (persons, agents) send these; each is acknowledged.',
    messages: Object.keys(SUPPORT_CHAT_CLIENT_EVENTS).map((event) => ({ $ref: `#/channels/support_chat/messages/${name(event)}` })),
  };
  operations.send_support_chat = {
    action: 'send',
    channel: { $ref: '#/channels/support_chat' },
    summary: 'The support service emits these to the sockets that joined a conversation.',
    messages: Object.keys(SUPPORT_CHAT_SERVER_EVENTS).map((event) => ({ $ref: `#/channels/support_chat/messages/${name(event)}` })),
  };
}
