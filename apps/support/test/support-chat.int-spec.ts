/**
 * The support service as two instances on one database: a person and an agent connected to
 * different instances chat in order, exactly once, with receipts and catch-up after a reconnect;
 * agents queue, claim, hand over and close; the payment's timeline is built from consumed events;
 * the rollout switches without a restart; card numbers never reach storage, logs or the other party.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { isTrue, testDatabaseUrl, waitFor } from '@pay/testing';
import { Client } from 'pg';
import type { ConversationView, MessageView } from '@pay/contracts';
import type { AppendOutcome, ChatNotice } from '../src/conversations/conversation-store';
import { ConversationStore } from '../src/conversations/conversation-store';
import { RetentionSweeper } from '../src/retention/retention-sweeper';
import type { SupportConfig } from '../src/config';
import type { Logger } from '@pay/observability';
import { LOGGER, SERVICE_CONFIG } from '@pay/platform';
import { PaymentStory } from './payment-story';
import type { SupportUnderTest } from './support-test-kit';
import { receivedAll } from './support-test-kit';

jest.setTimeout(120_000);

const CARD = '4242 4242 4242 4242';

describe('support chat (two instances)', () => {
  let support: SupportUnderTest;

  beforeAll(async () => {
    const { startSupport } = await import('./support-test-kit');
    support = await startSupport({ instances: 2 });
  }, 120_000);

  afterAll(async () => {
    await support?.stop();
  });

  const query = <T>(sql: string, parameters: unknown[] = []): Promise<T[]> => support.instances[0].service.runtime.dataSource.query<T[]>(sql, parameters);

  /** A person opens a conversation on instance 0 and an agent claims it on instance 1. */
  async function openAndClaim(personId: string, agentId: string, paymentId?: string): Promise<ConversationView> {
    const person = await support.caller(0, personId, 'person');
    const opened = await person.post<ConversationView>('/v1/support/conversations', { country: 'US', app: 'messenger', ...(paymentId ? { paymentId } : {}) });
    expect(opened.status).toBe(201);
    const agent = await support.caller(1, agentId, 'support');
    const claimed = await agent.post<ConversationView>(`/v1/support/conversations/${opened.body.id}/claim`);
    expect(claimed.status).toBe(200);
    return claimed.body;
  }

  it('delivers every message to both parties on different instances, in order, exactly once, with receipts; a reconnect gets what it missed once', async () => {
    const conversation = await openAndClaim('p-chat', 'agent-1');
    const person = await support.chat(0, 'p-chat', 'person');
    const agent = await support.chat(1, 'agent-1', 'support');
    expect(await person.join(conversation.id)).toMatchObject({ ok: true });
    expect(await agent.join(conversation.id)).toMatchObject({ ok: true });

    // Both write at once, each waiting for its acknowledgement (stored) before the next.
    const sent = await Promise.all([
      (async () => {
        const acks = [];
        for (let i = 0; i < 10; i += 1) acks.push(await person.send(conversation.id, `person says ${i}`));
        return acks;
      })(),
      (async () => {
        const acks = [];
        for (let i = 0; i < 10; i += 1) acks.push(await agent.send(conversation.id, `agent says ${i}`));
        return acks;
      })(),
    ]);
    for (const ack of sent.flat()) expect(ack).toMatchObject({ ok: true });
    const stored = sent.flat().map((ack) => (ack.message as MessageView).seq);
    expect([...stored].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    for (const client of [person, agent]) {
      const messages = await receivedAll(client, conversation.id, 20);
      expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      // Each party's own messages in the order it wrote them, the other's too.
      expect(messages.filter((m) => m.author.role === 'person').map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `person says ${i}`));
      expect(messages.filter((m) => m.author.role === 'agent').map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `agent says ${i}`));
    }

    // Receipts: the agent read everything; the person sees it (delivered receipts were sent by the clients).
    await agent.receipt(conversation.id, 'read', 20);
    await waitFor(
      () => person.receipts.filter((r) => r.party === 'agent'),
      (receipts) => receipts.some((r) => r.readSeq === 20 && r.deliveredSeq === 20),
      { what: "the agent's read receipt at the person", timeoutMs: 10_000, intervalMs: 20 },
    );
    await waitFor(
      async () => (await query<{ person_delivered_seq: number }>('SELECT person_delivered_seq FROM conversations WHERE id = $1', [conversation.id]))[0],
      (row) => row.person_delivered_seq === 20,
      { what: 'the person’s delivered receipt stored', timeoutMs: 10_000, intervalMs: 20 },
    );

    // The person goes away; the agent writes; the person comes back (on the other instance) and gets exactly those.
    person.disconnect();
    for (let i = 0; i < 5; i += 1) expect(await agent.send(conversation.id, `while you were away ${i}`)).toMatchObject({ ok: true });
    const before = person.messages.length;
    await person.connect(support.instances[1].url);
    expect(await person.join(conversation.id)).toMatchObject({ ok: true });
    await receivedAll(person, conversation.id, 25);
    expect(await agent.send(conversation.id, 'welcome back')).toMatchObject({ ok: true });
    const after = await receivedAll(person, conversation.id, 26);
    expect(after.slice(before).map((m) => [m.seq, m.text])).toEqual([
      ...Array.from({ length: 5 }, (_, i) => [21 + i, `while you were away ${i}`]),
      [26, 'welcome back'],
    ]);
    // Once: the agent's marker arrived after the catch-up and nothing came twice.
    expect(new Set(after.map((m) => m.seq)).size).toBe(after.length);

    // A retried send (same client message id) is stored once and answered with the first result.
    const clientMessageId = randomUUID();
    const first = await person.send(conversation.id, 'sent twice', clientMessageId);
    const again = await person.send(conversation.id, 'sent twice', clientMessageId);
    expect(again).toMatchObject({ ok: true, replayed: true, message: { seq: (first.message as MessageView).seq } });
    const [{ n }] = await query<{ n: string }>('SELECT count(*)::text AS n FROM messages WHERE conversation_id = $1', [conversation.id]);
    expect(Number(n)).toBe(27);
  });

  it('stores the messages an instance receives together with one statement and one commit: gap-free positions in order, retries once, a failing row alone fails', async () => {
    const conversation = await openAndClaim('p-batch', 'agent-batch');
    const other = await openAndClaim('p-batch-other', 'agent-batch-other');
    const person = await support.chat(0, 'p-batch', 'person');
    const agent = await support.chat(1, 'agent-batch', 'support');
    expect(await person.join(conversation.id)).toMatchObject({ ok: true });
    expect(await agent.join(conversation.id)).toMatchObject({ ok: true });
    const [personStore, agentStore] = support.instances.map((instance) => instance.service.app.get(ConversationStore));
    const asPerson = { party: 'person', id: 'p-batch' } as const;
    const asAgent = { party: 'agent', id: 'agent-batch' } as const;
    const before = await personStore.append(conversation.id, asPerson, randomUUID(), 'stored before the batch', []);
    if (before.outcome !== 'stored') throw new Error(`not stored: ${before.code}`);

    // What the instances tell each other about the batches: notifications on the schema's channel.
    const listener = new Client({ connectionString: testDatabaseUrl() });
    const notifications: ChatNotice[] = [];
    listener.on('notification', (notification) => notifications.push(JSON.parse(notification.payload ?? '') as ChatNotice));
    await listener.connect();
    await listener.query(`LISTEN "${personStore.channel}"`);

    // Submitted in one turn of the event loop on each instance, both instances at once; one message
    // long enough (2,000 characters) to travel in a notification of its own.
    const personIds = Array.from({ length: 10 }, () => randomUUID());
    const agentIds = Array.from({ length: 10 }, () => randomUUID());
    const [personOutcomes, agentOutcomes] = await Promise.all([
      Promise.all([
        ...personIds.map((id, k) => personStore.append(conversation.id, asPerson, id, k === 5 ? 'long '.repeat(400) : `person ${k}`, [])),
        personStore.append(conversation.id, asPerson, personIds[3], 'person 3', []),
        personStore.append(conversation.id, asPerson, before.message.clientMessageId, 'stored before the batch', []),
      ]),
      Promise.all([
        ...agentIds.map((id, k) => agentStore.append(conversation.id, asAgent, id, `agent ${k}`, [])),
        agentStore.append(other.id, asAgent, randomUUID(), 'not this agent’s conversation', []),
      ]),
    ]);
    const stored = (outcome: AppendOutcome): MessageView => {
      if (outcome.outcome !== 'stored') throw new Error(`refused: ${outcome.code}`);
      return outcome.message;
    };
    // Each party's messages take positions in the order they were submitted; retries take none.
    const personSeqs = personOutcomes.slice(0, 10).map((outcome) => stored(outcome).seq);
    const agentSeqs = agentOutcomes.slice(0, 10).map((outcome) => stored(outcome).seq);
    expect(personSeqs).toEqual([...personSeqs].sort((a, b) => a - b));
    expect(agentSeqs).toEqual([...agentSeqs].sort((a, b) => a - b));
    expect([...personSeqs, ...agentSeqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect(personOutcomes[10]).toEqual({ outcome: 'stored', replayed: true, message: stored(personOutcomes[3]) });
    expect(personOutcomes[11]).toEqual({ outcome: 'stored', replayed: true, message: before.message });
    expect(agentOutcomes[10]).toMatchObject({ outcome: 'refused', code: 'NOT_FOUND' });
    expect((await query('SELECT 1 FROM messages WHERE conversation_id = $1', [other.id])).length).toBe(0);
    // One commit per instance's batch: its rows were written by one transaction.
    const writers = await query<{ author_role: string; n: number; rows: number }>(
      'SELECT author_role, count(DISTINCT xmin::text)::int AS n, count(*)::int AS rows FROM messages WHERE conversation_id = $1 AND seq > 1 GROUP BY author_role ORDER BY author_role',
      [conversation.id],
    );
    expect(writers).toEqual([
      { author_role: 'agent', n: 1, rows: 10 },
      { author_role: 'person', n: 1, rows: 10 },
    ]);
    // Notified several to a notification: the 19 short ones packed (one notification per batch),
    // the long one alone; the 20 positions each once.
    await waitFor(
      async () => notifications.flatMap((notice) => (notice.k === 'ms' ? notice.ms : notice.k === 'm' ? [notice] : [])).length,
      (count) => count >= 20,
      { what: "the two batches' notifications" },
    );
    await listener.end();
    // (The connected clients' delivery receipts travel on the channel too.)
    expect(
      notifications
        .map((notice) => notice.k)
        .filter((kind) => kind !== 'r')
        .sort(),
    ).toEqual(['m', 'ms', 'ms']);
    const notified = notifications.flatMap((notice) => (notice.k === 'ms' ? notice.ms : notice.k === 'm' ? [notice] : []));
    expect(notified.map((notice) => ('m' in notice ? notice.m.seq : notice.s)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));

    // A row PostgreSQL refuses (a NUL character) fails alone; the others of its batch are stored.
    const mixed = await Promise.allSettled([
      personStore.append(conversation.id, asPerson, randomUUID(), 'before the bad one', []),
      personStore.append(conversation.id, asPerson, randomUUID(), 'a NUL \u0000 character', []),
      personStore.append(conversation.id, asPerson, randomUUID(), 'after the bad one', []),
    ]);
    expect(mixed.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const survivors = mixed.flatMap((result) => (result.status === 'fulfilled' ? [stored(result.value)] : []));
    expect(survivors.map((message) => [message.seq, message.text])).toEqual([
      [22, 'before the bad one'],
      [23, 'after the bad one'],
    ]);

    // From a client, that character is refused with its reason before it reaches storage.
    expect(await person.send(conversation.id, 'a NUL \u0000 character')).toMatchObject({
      ok: false,
      code: 'INVALID_MESSAGE',
      details: ['text: must not contain the NUL character (U+0000)'],
    });

    // Both parties, on different instances, got every position once and in order (notified several to a notification).
    expect(await person.send(conversation.id, 'marker')).toMatchObject({ ok: true, message: { seq: 24 } });
    for (const client of [person, agent]) {
      const messages = await receivedAll(client, conversation.id, 24);
      expect(messages.map((message) => message.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    }
    const rows = await query<{ seq: number }>('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
  });

  it("stores the receipts an instance receives together with one statement and one commit: positions only forward, never past the last message, only the owner's", async () => {
    const agentId = 'agent-receipts';
    const conversations = [
      await openAndClaim('p-receipts-1', agentId),
      await openAndClaim('p-receipts-2', agentId),
      await openAndClaim('p-receipts-3', agentId),
    ];
    const store = support.instances[0].service.app.get(ConversationStore);
    const person = (k: number) => ({ party: 'person', id: `p-receipts-${k + 1}` }) as const;
    const agent = { party: 'agent', id: agentId } as const;
    // Three messages in each: positions 1..3.
    for (const [k, conversation] of conversations.entries())
      for (const author of [person(k), agent, person(k)])
        expect(await store.append(conversation.id, author, randomUUID(), 'hello', [])).toMatchObject({ outcome: 'stored' });
    const [c1, c2, c3] = conversations.map((conversation) => conversation.id);

    const listener = new Client({ connectionString: testDatabaseUrl() });
    const notices: ChatNotice[] = [];
    listener.on('notification', (notification) => notices.push(JSON.parse(notification.payload ?? '') as ChatNotice));
    await listener.connect();
    await listener.query(`LISTEN "${store.channel}"`);

    // Submitted in one turn of the event loop: a delivered and a read receipt of one person (read
    // implies delivered), the agent's in the same conversation, one past the last message (kept at
    // 3), and one from someone who is not the conversation's person (moves nothing).
    const outcomes = await Promise.all([
      store.recordReceipt(c1, person(0), 'delivered', 2),
      store.recordReceipt(c1, person(0), 'read', 1),
      store.recordReceipt(c1, agent, 'read', 3),
      store.recordReceipt(c2, person(1), 'read', 99),
      store.recordReceipt(c3, agent, 'delivered', 3),
      store.recordReceipt(c3, person(0), 'read', 3),
    ]);
    expect(outcomes).toEqual([
      { conversationId: c1, party: 'person', deliveredSeq: 2, readSeq: 1 },
      { conversationId: c1, party: 'person', deliveredSeq: 2, readSeq: 1 },
      { conversationId: c1, party: 'agent', deliveredSeq: 3, readSeq: 3 },
      { conversationId: c2, party: 'person', deliveredSeq: 3, readSeq: 3 },
      { conversationId: c3, party: 'agent', deliveredSeq: 3, readSeq: 0 },
      undefined,
    ]);
    // One commit: the three conversations were written by one transaction.
    const rows = await query<{
      id: string;
      writer: string;
      person_delivered_seq: number;
      person_read_seq: number;
      agent_delivered_seq: number;
      agent_read_seq: number;
    }>(
      'SELECT id, xmin::text AS writer, person_delivered_seq, person_read_seq, agent_delivered_seq, agent_read_seq FROM conversations WHERE id = ANY($1::uuid[])',
      [[c1, c2, c3]],
    );
    expect(new Set(rows.map((row) => row.writer)).size).toBe(1);
    const positions = (id: string) => {
      const { writer: _writer, id: _id, ...rest } = rows.find((row) => row.id === id)!;
      return rest;
    };
    expect(positions(c1)).toEqual({ person_delivered_seq: 2, person_read_seq: 1, agent_delivered_seq: 3, agent_read_seq: 3 });
    expect(positions(c2)).toEqual({ person_delivered_seq: 3, person_read_seq: 3, agent_delivered_seq: 0, agent_read_seq: 0 });
    expect(positions(c3)).toEqual({ person_delivered_seq: 0, person_read_seq: 0, agent_delivered_seq: 3, agent_read_seq: 0 });

    // Backwards (or where it is already): nothing moves, nothing is announced. Then one that moves, as a marker.
    expect(await Promise.all([store.recordReceipt(c1, person(0), 'delivered', 1), store.recordReceipt(c2, person(1), 'read', 3)])).toEqual([
      undefined,
      undefined,
    ]);
    expect(await store.recordReceipt(c1, person(0), 'read', 3)).toEqual({ conversationId: c1, party: 'person', deliveredSeq: 3, readSeq: 3 });
    await waitFor(
      async () => notices.filter((notice) => notice.k === 'r' && [c1, c2, c3].includes(notice.r.conversationId)).length,
      (count) => count >= 5,
      { what: 'the receipts announced' },
    );
    await listener.end();
    // Each party that moved announced once, in conversation order; the marker last.
    // (Other tests' clients may still send receipts of their own conversations.)
    const announced = notices.flatMap((notice) => (notice.k === 'r' && [c1, c2, c3].includes(notice.r.conversationId) ? [notice.r] : []));
    const ordered = [...outcomes.slice(1, 5)].sort((a, b) => `${a!.conversationId}${a!.party}`.localeCompare(`${b!.conversationId}${b!.party}`));
    expect(announced).toEqual([...ordered, { conversationId: c1, party: 'person', deliveredSeq: 3, readSeq: 3 }]);
  });

  it('refuses a card number before storage: it reaches neither the table, the logs nor the agent; an IBAN is masked', async () => {
    const conversation = await openAndClaim('p-card', 'agent-2');
    const person = await support.chat(0, 'p-card', 'person');
    const agent = await support.chat(1, 'agent-2', 'support');
    await person.join(conversation.id);
    await agent.join(conversation.id);

    const refused = await person.send(conversation.id, `my card is ${CARD}, exp 12/29`);
    expect(refused).toMatchObject({ ok: false, code: 'MESSAGE_HAS_CARD_NUMBER', message: expect.stringMatching(/card number/) });
    expect(await person.send(conversation.id, 'my PIN is 4821')).toMatchObject({ ok: false, code: 'MESSAGE_HAS_PIN' });
    expect(await person.send(conversation.id, 'refund to DE89 3704 0044 0532 0130 00 please')).toMatchObject({ ok: true, message: { masked: ['iban'] } });
    expect(await person.send(conversation.id, 'marker after the refused ones')).toMatchObject({ ok: true });

    // The agent got the two accepted messages, and nothing else, by the time the marker arrived.
    const seen = await receivedAll(agent, conversation.id, 2);
    expect(seen.map((m) => m.text)).toEqual(['refund to [IBAN DE…3000] please', 'marker after the refused ones']);
    const rows = await query<{ body: string }>('SELECT body FROM messages WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
    expect(rows.map((r) => r.body)).toEqual(['refund to [IBAN DE…3000] please', 'marker after the refused ones']);
    const [{ found }] = await query<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM messages WHERE body LIKE '%4242%' OR body LIKE '%4821%' OR body LIKE '%3704%') AS found`,
    );
    expect(found).toBe(false);
    // Random ids (trace and span ids, UUIDs) and numbers the lines carry may hold four digits in a
    // row by chance ('4821' inside a trace id was seen): they are not text anyone sent.
    const logs = support.instances
      .flatMap((instance) => instance.logs)
      .join('')
      .replace(/"(?:trace_id|span_id)":"[0-9a-f]{16,32}"/g, '')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '')
      .replace(/":-?[0-9]+(?:\.[0-9]+)?/g, '":0');
    expect(logs).toContain('message refused before storage');
    for (const secret of ['4242', '4821', '3704 0044', 'marker after']) expect(logs).not.toContain(secret);
    // Nor the metrics either instance exports: the chat's counters are there, by outcome and role, and no text.
    for (const instance of support.instances) {
      // Sample values (numbers that may hold four digits in a row by chance) are not text anyone sent.
      const metrics = (await (await fetch(`${instance.url}/metrics`)).text())
        .split('\n')
        .map((line) => line.replace(/ [-+0-9.eE]+(?: [0-9]+)?$/, ''))
        .join('\n');
      expect(metrics).toMatch(/support_chat_messages_total\{[^}]*outcome="MESSAGE_HAS_CARD_NUMBER"/);
      for (const text of ['4242', '4821', '3704', 'marker after', 'refund to', 'IBAN DE']) expect(metrics).not.toContain(text);
    }
  });

  it('lets only the assigned agent act: claim, hand over (the first agent stops receiving), close with a reason; others find nothing', async () => {
    const person = await support.caller(0, 'p-desk', 'person');
    const opened = await person.post<ConversationView>('/v1/support/conversations', { country: 'US', app: 'facebook' });
    const id = opened.body.id;
    const agent3 = await support.caller(1, 'agent-3', 'support');
    const agent4 = await support.caller(0, 'agent-4', 'support');

    // A later one waits behind it: the queue is oldest first.
    const later = (
      await (await support.caller(1, 'p-desk-later', 'person')).post<ConversationView>('/v1/support/conversations', { country: 'US', app: 'messenger' })
    ).body.id;
    const queue = await agent3.get<{ conversations: Array<ConversationView & { waitingSeconds: number }> }>('/v1/support/queue?country=US');
    const queued = queue.body.conversations.map((c) => c.id);
    expect(queued).toContain(id);
    expect(queued.indexOf(id)).toBeLessThan(queued.indexOf(later));
    expect(queue.body.conversations.map((c) => c.waitingSeconds).every((seconds, k, all) => k === 0 || seconds <= all[k - 1])).toBe(true);
    expect((await agent3.get<{ conversations: unknown[] }>('/v1/support/queue?country=DE')).body.conversations).toEqual([]);

    // Queued: no agent may join it over the WebSocket yet.
    const chat3 = await support.chat(1, 'agent-3', 'support');
    expect(await chat3.join(id)).toMatchObject({ ok: false, code: 'NOT_FOUND' });

    expect((await agent3.post(`/v1/support/conversations/${id}/claim`)).status).toBe(200);
    expect(await agent4.post(`/v1/support/conversations/${id}/claim`)).toMatchObject({ status: 409, body: { code: 'CONVERSATION_NOT_QUEUED' } });
    expect((await agent4.post(`/v1/support/conversations/${id}/close`, { reason: 'resolved' })).status).toBe(404);
    expect(await chat3.join(id)).toMatchObject({ ok: true });
    const chat4 = await support.chat(0, 'agent-4', 'support');
    expect(await chat4.join(id)).toMatchObject({ ok: false, code: 'NOT_FOUND' });

    // Another person finds nothing, over HTTP and the WebSocket.
    const stranger = await support.chat(0, 'p-stranger', 'person');
    expect(await stranger.join(id)).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await stranger.send(id, 'hello?')).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    const strangerHttp = await support.caller(0, 'p-stranger', 'person');
    expect((await strangerHttp.get(`/v1/support/persons/p-desk/conversations/export`)).status).toBe(404);

    // Hand over to agent-4: agent-3 is told and stops receiving, agent-4 is told it has it.
    expect((await agent3.post(`/v1/support/conversations/${id}/hand-over`, { toAgentId: 'agent-4' })).status).toBe(200);
    await waitFor(() => chat4.assigned.some((c) => c.id === id), isTrue, { what: 'agent-4 told of the hand-over', timeoutMs: 10_000, intervalMs: 20 });
    await waitFor(() => chat3.updates.some((u) => u.id === id && u.agentId === 'agent-4'), isTrue, { what: 'agent-3 told', timeoutMs: 10_000, intervalMs: 20 });
    expect(await chat4.join(id)).toMatchObject({ ok: true });
    const personChat = await support.chat(1, 'p-desk', 'person');
    await personChat.join(id);
    expect(await personChat.send(id, 'is anyone there?')).toMatchObject({ ok: true });
    await receivedAll(chat4, id, 1);
    expect(await chat3.send(id, 'still me')).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(chat3.messages.filter((m) => m.conversationId === id)).toEqual([]);

    expect(await agent4.post(`/v1/support/conversations/${id}/close`, { reason: 'not-a-reason' })).toMatchObject({ status: 400 });
    const closed = await agent4.post<ConversationView>(`/v1/support/conversations/${id}/close`, { reason: 'resolved' });
    expect(closed.body).toMatchObject({ status: 'closed', closeReason: 'resolved', agentId: 'agent-4' });
    expect(await personChat.send(id, 'one more thing')).toMatchObject({ ok: false, code: 'CONVERSATION_CLOSED' });
    const actions = await query<{ agent_id: string; action: string }>('SELECT agent_id, action FROM agent_actions WHERE conversation_id = $1 ORDER BY id', [
      id,
    ]);
    expect(actions).toEqual([
      { agent_id: 'agent-3', action: 'claim' },
      { agent_id: 'agent-3', action: 'hand-over' },
      { agent_id: 'agent-4', action: 'close' },
    ]);
    const events = await query<{ type: string; data: object }>(
      `SELECT payload->>'type' AS type, payload->'data' AS data FROM outbox WHERE message_key = $1 ORDER BY position`,
      [id],
    );
    expect(events).toEqual([
      { type: 'support.conversation.opened', data: { conversationId: id, personId: 'p-desk', country: 'US', app: 'facebook' } },
      { type: 'support.conversation.closed', data: { conversationId: id, agentId: 'agent-4', reason: 'resolved' } },
    ]);

    // The person exports it; after the retention period it is deleted, messages and all.
    const exported = await person.get<{ conversations: Array<{ id: string; messages: MessageView[] }> }>('/v1/support/persons/p-desk/conversations/export');
    expect(exported.status).toBe(200);
    expect(exported.body.conversations.find((c) => c.id === id)?.messages.map((m) => m.text)).toEqual(['is anyone there?']);
    const sweeper = support.instances[0].service.app.get(RetentionSweeper);
    expect(await sweeper.sweep()).toBe(0);
    // Kept until the configured period (SUPPORT_RETENTION_DAYS) has passed, deleted after it: the
    // period is the configuration's (a sweeper configured with 60 days beside the instance's 90).
    const app = support.instances[0].service.app;
    const config = app.get<SupportConfig>(SERVICE_CONFIG);
    expect(config.SUPPORT_RETENTION_DAYS).toBe(90);
    const sixtyDays = new RetentionSweeper(app.get(ConversationStore), { ...config, SUPPORT_RETENTION_DAYS: 60 }, app.get<Logger>(LOGGER));
    await query(`UPDATE conversations SET closed_at = now() - interval '59 days' WHERE id = $1`, [id]);
    expect(await sixtyDays.sweep()).toBe(0);
    await query(`UPDATE conversations SET closed_at = now() - interval '89 days' WHERE id = $1`, [id]);
    expect(await sweeper.sweep()).toBe(0);
    expect(await sixtyDays.sweep()).toBe(1);
    expect(await query('SELECT 1 FROM messages WHERE conversation_id = $1', [id])).toEqual([]);
    expect((await person.get<{ conversations: unknown[] }>('/v1/support/persons/p-desk/conversations/export')).body.conversations).toEqual([]);
  });

  it('answers every message.send and message.receipt (bound on the socket, not through Nest): a malformed payload is refused, one without a callback is answered with an event', async () => {
    const conversation = await openAndClaim('p-bound', 'agent-bound');
    const person = await support.chat(0, 'p-bound', 'person');
    expect(await person.join(conversation.id)).toMatchObject({ ok: true });
    const socket = person.socket!;
    for (const malformed of ['not an object', [conversation.id], { conversationId: 'not-a-uuid', clientMessageId: randomUUID(), text: 'hi' }]) {
      expect(await socket.emitWithAck('message.send', malformed)).toMatchObject({ ok: false, code: 'INVALID_MESSAGE' });
    }
    expect(await socket.emitWithAck('message.send', { conversationId: conversation.id, clientMessageId: randomUUID(), text: 'hi', extra: true })).toMatchObject(
      { ok: false, code: 'INVALID_MESSAGE' },
    );
    // No acknowledgement callback: the answer comes back as a `message.send` event, as Nest answered.
    const answer = new Promise<Record<string, unknown>>((resolve) => socket.once('message.send', resolve));
    socket.emit('message.send', { conversationId: conversation.id, clientMessageId: randomUUID(), text: 'without a callback' });
    expect(await answer).toMatchObject({ ok: true, replayed: false, message: { seq: 1, text: 'without a callback' } });
    // message.receipt, bound the same way: malformed receipts refused, one without a callback answered with an event.
    for (const malformed of [
      'not an object',
      { conversationId: conversation.id, kind: 'seen', seq: 1 },
      { conversationId: conversation.id, kind: 'read', seq: -1 },
    ]) {
      expect(await socket.emitWithAck('message.receipt', malformed)).toMatchObject({ ok: false, code: 'INVALID_MESSAGE' });
    }
    expect(await socket.emitWithAck('message.receipt', { conversationId: conversation.id, kind: 'delivered', seq: 1 })).toEqual({ ok: true });
    const receiptAnswer = new Promise<Record<string, unknown>>((resolve) => socket.once('message.receipt', resolve));
    socket.emit('message.receipt', { conversationId: conversation.id, kind: 'read', seq: 1 });
    expect(await receiptAnswer).toEqual({ ok: true });
    expect(await query('SELECT person_read_seq FROM conversations WHERE id = $1', [conversation.id])).toEqual([{ person_read_seq: 1 }]);
    person.disconnect();
  });

  it('refuses tokens of other roles and no token at the WebSocket handshake', async () => {
    await expect(support.chat(0, 'an-analyst', 'analyst')).rejects.toThrow(/open to person, support/);
    const { ChatClient } = await import('./support-test-kit');
    await expect(new ChatClient(support.instances[0].url, 'not-a-token').connect()).rejects.toThrow();
  });

  it('takes at the WebSocket handshake exactly the access tokens HTTP takes: expired, foreign-signed and wrong-audience ones are refused by both', async () => {
    const { ChatClient, SupportCaller } = await import('./support-test-kit');
    const { createTestIssuer } = await import('@pay/auth/testing');
    const { idp } = support;
    const impostor = await createTestIssuer({ issuer: idp.issuer, audience: idp.audience });
    const url = support.instances[0].url;
    // Each token with an HTTP route its role may call.
    const personRoute = '/v1/support/availability?country=US&app=messenger';
    const refused: Array<[string, string, string]> = [
      ['expired', await idp.signTestToken({ sub: 'p-ws-auth', role: 'person' }, { expiresIn: -60 }), personRoute],
      ['signed by another key', await impostor.signTestToken({ sub: 'p-ws-auth', role: 'person' }), personRoute],
      ['of another issuer', await idp.signTestToken({ sub: 'p-ws-auth', role: 'person' }, { issuer: 'https://id.elsewhere.test' }), personRoute],
      [
        "an agent's, for the shared audience",
        await idp.signTestToken({ sub: 'agent-ws-auth', role: 'support' }, { audience: idp.audience }),
        '/v1/support/queue',
      ],
      ["a person's, for the agents' audience", await idp.signTestToken({ sub: 'p-ws-auth', role: 'person' }, { audience: idp.agentAudience }), personRoute],
    ];
    for (const [what, token, route] of refused) {
      expect([what, (await new SupportCaller(url, token).get(route)).status]).toEqual([what, 401]);
      await expect(new ChatClient(url, token).connect()).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
    }
    // The same tokens, well formed, are taken by both.
    for (const [token, route] of [
      [await idp.signTestToken({ sub: 'p-ws-auth', role: 'person' }), personRoute],
      [await idp.signTestToken({ sub: 'agent-ws-auth', role: 'support' }), '/v1/support/queue'],
    ]) {
      expect((await new SupportCaller(url, token).get(route)).status).toBe(200);
      const client = new ChatClient(url, token);
      await client.connect();
      client.disconnect();
    }
  });

  it("shows the agent the payment's timeline from consumed events, including a refund made after the conversation opened, and keeps refunds within what is left", async () => {
    const story = new PaymentStory('p-pay');
    await support.publish(story.purchase());
    const person = await support.caller(0, 'p-pay', 'person');
    await waitFor(
      async () => (await person.post('/v1/support/conversations', { country: 'US', app: 'messenger', paymentId: story.paymentId })).status,
      (status) => status === 201,
      { what: 'the payment known to support (consumed)', timeoutMs: 60_000, intervalMs: 200 },
    );
    // Someone else's payment is not found.
    const other = await support.caller(0, 'p-other', 'person');
    expect(await other.post('/v1/support/conversations', { country: 'US', app: 'messenger', paymentId: story.paymentId })).toMatchObject({
      status: 404,
      body: { code: 'PAYMENT_NOT_FOUND' },
    });
    const agent = await support.caller(1, 'agent-5', 'support');
    const [conversation] = (await person.get<{ conversations: ConversationView[] }>('/v1/support/persons/p-pay/conversations/export')).body.conversations;
    expect((await agent.post(`/v1/support/conversations/${conversation.id}/claim`)).status).toBe(200);

    type Timeline = { refundable: string; captured: string; refunded: string; timeline: Array<{ stage: string; type: string }> };
    // Opening needed the payment known (its first event); the rest of its story may still be on its way.
    const first = await waitFor(
      () => agent.get<Timeline>(`/v1/support/conversations/${conversation.id}/payment`),
      (answer) => answer.status !== 200 || (answer.body.timeline.length >= 4 && answer.body.captured === '2500'),
      { what: "the purchase's whole story consumed", timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ paymentId: story.paymentId, payerId: 'p-pay', captured: '2500', refundable: '2500' });
    expect(first.body.timeline.map((e) => e.stage)).toEqual(['intake', 'psp', 'psp', 'ledger']);
    // Another agent does not see it.
    expect((await (await support.caller(1, 'agent-6', 'support')).get(`/v1/support/conversations/${conversation.id}/payment`)).status).toBe(404);

    // A refund made after the conversation opened shows, and what is left to refund shrinks. Waits
    // for what it asserts: the refund's three entries (two topics, consumed in any order) and the facts.
    await support.publish(story.refund('1000'));
    const later = await waitFor(
      async () => (await agent.get<Timeline>(`/v1/support/conversations/${conversation.id}/payment`)).body,
      (body) => body.timeline.length === 7 && body.refunded === '1000' && body.refundable === '1500',
      { what: 'the refund in the timeline', timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(later.timeline.map((e) => e.type).slice(4)).toEqual([
      'payments.payment.refund-requested',
      'payments.payment.refunded',
      'ledger.transaction.recorded',
    ]);
    expect(later).toMatchObject({ refunded: '1000', refundable: '1500' });

    // Beyond what is left, or in another currency: refused here, before orchestration is asked.
    const refund = (body: object) => agent.post(`/v1/support/conversations/${conversation.id}/refunds`, body, { 'idempotency-key': randomUUID() });
    expect(await refund({ amount: { amount: '1501', currency: 'USD' }, reason: 'requested_by_customer' })).toMatchObject({
      status: 422,
      body: { code: 'REFUND_EXCEEDS_REFUNDABLE' },
    });
    expect(await refund({ amount: { amount: '100', currency: 'EUR' }, reason: 'requested_by_customer' })).toMatchObject({
      status: 422,
      body: { code: 'CURRENCY_MISMATCH' },
    });
    // Within the limit, but this test runs no orchestration key: refused plainly, nothing recorded.
    expect(await refund({ amount: { amount: '500', currency: 'USD' }, reason: 'requested_by_customer' })).toMatchObject({
      status: 503,
      body: { code: 'REFUNDS_UNAVAILABLE' },
    });
    expect(await query(`SELECT 1 FROM agent_actions WHERE conversation_id = $1 AND action = 'refund'`, [conversation.id])).toEqual([]);
  });

  it('offers chat only where the rollout says, with its own code elsewhere, and switches without a restart', async () => {
    const person = await support.caller(0, 'p-de', 'person');
    // The wallet's country wins over what the client says.
    await support.publish([PaymentStory.walletOpened('p-de', 'DE')]);
    await waitFor(
      async () => (await query('SELECT 1 FROM persons WHERE person_id = $1', ['p-de'])).length,
      (n) => n === 1,
      {
        what: 'the wallet’s country consumed',
        timeoutMs: 60_000,
        intervalMs: 200,
      },
    );
    const refused = await person.post('/v1/support/conversations', { country: 'US', app: 'messenger' });
    expect(refused).toMatchObject({ status: 403, body: { code: 'SUPPORT_CHAT_NOT_AVAILABLE_IN_COUNTRY', country: 'DE' } });
    expect(refused.body.message).toMatch(/not available in your country \(DE\) yet/);
    expect((await person.get('/v1/support/availability?country=US&app=messenger')).body).toMatchObject({
      available: false,
      code: 'SUPPORT_CHAT_NOT_AVAILABLE_IN_COUNTRY',
    });
    const us = await support.caller(1, 'p-us', 'person');
    expect(await us.post('/v1/support/conversations', { country: 'US', app: 'whatsapp' })).toMatchObject({
      status: 403,
      body: { code: 'SUPPORT_CHAT_NOT_AVAILABLE_IN_APP' },
    });

    await support.writeRollout([
      { country: 'US', apps: ['facebook', 'messenger'] },
      { country: 'DE', apps: ['messenger'] },
    ]);
    for (const instance of [0, 1]) {
      const caller = await support.caller(instance, 'p-de', 'person');
      await waitFor(async () => (await caller.get<{ available: boolean }>('/v1/support/availability?country=DE&app=messenger')).body.available, isTrue, {
        what: `instance ${instance} reloading the rollout`,
        timeoutMs: 10_000,
        intervalMs: 50,
      });
    }
    expect(await person.post('/v1/support/conversations', { country: 'DE', app: 'messenger' })).toMatchObject({
      status: 201,
      body: { country: 'DE', status: 'queued' },
    });
  });
});
