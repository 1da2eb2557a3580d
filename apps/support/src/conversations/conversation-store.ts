import { randomUUID } from 'node:crypto';
import { createEvent, SupportConversationClosedV1, SupportConversationOpenedV1 } from '@pay/contracts';
import type { GroupCommitOptions } from '@pay/messaging';
import { appendToOutbox, GroupCommit } from '@pay/messaging';
import type { NamedStatement, Sql } from '@pay/platform';
import { inTransaction, queryNamed, sqlOfPool, sqlStateOf, UNIQUE_VIOLATION } from '@pay/platform';
import type { DataSource } from 'typeorm';
import type { AgentCommand } from '../domain/conversation';
import { ConversationRuleError, decide } from '../domain/conversation';
import type { ConversationView, MessageView, Party, QueuedConversationView, ReceiptView } from '@pay/contracts';
import type { ConversationRow, MessageRow } from './chat-views';
import { conversationView, messageView } from './chat-views';

/** The NOTIFY channel of a support schema: every instance on that schema LISTENs to it (chat-fanout.ts). */
export function chatChannel(schema: string): string {
  return `support_chat_${schema}`;
}

/** A stored message as the channel carries it. */
export type MessageNotice =
  | { k: 'm'; m: MessageView }
  /** A message too long for a notification (8,000 bytes): listeners read it from the table. */
  | { k: 'm'; c: string; s: number; f: true };

/** What instances tell each other through the channel, at commit. */
export type ChatNotice =
  | MessageNotice
  /** A batch's messages, several to a notification, in position order per conversation. */
  | { k: 'ms'; ms: MessageNotice[] }
  | { k: 'r'; r: ReceiptView }
  | { k: 'u'; v: ConversationView };

export interface OpenConversation {
  personId: string;
  country: string;
  app: string;
  paymentId?: string;
}

export type AppendOutcome =
  { outcome: 'stored'; message: MessageView; replayed: boolean } | { outcome: 'refused'; code: 'NOT_FOUND' | 'CONVERSATION_CLOSED'; message: string };

/** Who acts on a conversation: a person (its own) or an agent (the assigned one). */
export interface Actor {
  party: Party;
  id: string;
}

export class ConversationNotFoundError extends Error {
  override name = 'ConversationNotFoundError';
}

/**
 * The advisory lock key of a conversation ($1: its id) that orders an agent's refund (shared, for
 * the whole call to orchestration) before a close or hand-over (exclusive). Not the row lock: chat
 * messages, which update the row, must not wait for a refund.
 */
export const CONVERSATION_GUARD = `hashtextextended('support.conversation:' || $1::text, 0)`;

const ISO_MS = `to_char(m.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
// The whole message when it fits a notification (8,000 bytes), else its position only.
const MESSAGE_NOTICE = `CASE WHEN octet_length(m.body) <= 6000 THEN json_build_object('k', 'm', 'm', json_build_object(
    'conversationId', m.conversation_id, 'seq', m.seq, 'id', m.id, 'clientMessageId', m.client_message_id,
    'author', json_build_object('role', m.author_role, 'id', m.author_id), 'text', m.body, 'masked', m.masked, 'sentAt', ${ISO_MS}))::text
  ELSE json_build_object('k', 'm', 'c', m.conversation_id, 's', m.seq, 'f', true)::text END`;

const MESSAGE_COLUMNS = ['conversation_id', 'seq', 'id', 'client_message_id', 'author_role', 'author_id', 'body', 'masked', 'sent_at'];

/**
 * A batch's notices travel several to a notification (each under 8,000 bytes): a notice of at most
 * NOTICE_SHARED bytes joins the others, packed in position order, a new notification begun once
 * NOTICE_PACK bytes are reached (so one holds at most NOTICE_PACK + NOTICE_SHARED + its brackets); a
 * longer one (a long message) travels alone.
 */
const NOTICE_SHARED = 1_500;
const NOTICE_PACK = 6_000;

/**
 * Stores a batch of messages (arrays, one element per message, numbered by ordinality) with one
 * statement, answering one row per message: `stored`, `replayed` (a retry: the row stored before),
 * `closed` or `not_found` (refused: nothing stored, no position taken).
 * - The batch's conversations are locked in id order, so two instances' batches cannot deadlock;
 *   a later batch touching one of them waits for this one's commit, so positions commit in order.
 * - The rows that may be stored take the positions after `last_seq` (as locked: the latest
 *   committed), in the batch's order, with one UPDATE per conversation: 1, 2, 3 … without gaps.
 * - The inserted messages are NOTIFYed a few to a notification (NOTICE_PACK), in position order:
 *   the notices reach every instance at commit, in that order. Each notification costs PostgreSQL
 *   a queue entry read by every listener of the database, and each instance a parse: per batch,
 *   not per message.
 * - Conversations and earlier retries are found through their indexes (`= ANY`, a LATERAL probe of
 *   the unique client message id), never by scanning the tables, which only grow.
 * A retry stored meanwhile by another instance's uncommitted batch makes the INSERT fail on the
 * unique key (the whole statement, no position taken): the caller then stores one by one.
 */
const APPEND_MESSAGES = `WITH r AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], $7::text[])
      WITH ORDINALITY AS r (conversation_id, party, author_id, id, client_message_id, body, masked, i)
  ), earlier AS (
    SELECT r.i, e.* FROM r CROSS JOIN LATERAL (
      SELECT * FROM messages m
       WHERE m.conversation_id = r.conversation_id AND m.author_id = r.author_id AND m.client_message_id = r.client_message_id AND m.author_role = r.party
       LIMIT 1 -- unique anyway; kept a subquery (not flattened into a join over the whole table)
    ) e
  ), c AS (
    SELECT id, status, person_id, agent_id, last_seq FROM conversations WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
  ), n AS (
    SELECT r.*, c.last_seq, row_number() OVER (PARTITION BY r.conversation_id ORDER BY r.i) AS k, count(*) OVER (PARTITION BY r.conversation_id) AS total
      FROM r JOIN c ON c.id = r.conversation_id
     WHERE c.status <> 'closed'
       AND ((r.party = 'person' AND c.person_id = r.author_id) OR (r.party = 'agent' AND c.status = 'claimed' AND c.agent_id = r.author_id))
       AND NOT EXISTS (SELECT 1 FROM earlier e WHERE e.i = r.i)
  ), u AS (
    UPDATE conversations SET last_seq = t.last_seq + t.total
      FROM (SELECT DISTINCT conversation_id, last_seq, total FROM n) t WHERE conversations.id = t.conversation_id
  ), m AS (
    INSERT INTO messages AS m (conversation_id, seq, id, client_message_id, author_role, author_id, body, masked)
    SELECT n.conversation_id, n.last_seq + n.k, n.id, n.client_message_id, n.party, n.author_id, n.body, string_to_array(n.masked, ',')
      FROM n ORDER BY n.conversation_id, n.k
    RETURNING m.*
  ), notice AS (
    SELECT ${MESSAGE_NOTICE} AS body, row_number() OVER (ORDER BY m.conversation_id, m.seq) AS o FROM m
  ), packed AS (
    SELECT body, o, octet_length(body) > ${NOTICE_SHARED} AS alone,
           coalesce(sum(octet_length(body) + 1) FILTER (WHERE octet_length(body) <= ${NOTICE_SHARED})
             OVER (ORDER BY o ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
      FROM notice
  ), notifications AS (
    SELECT CASE WHEN alone THEN min(body) ELSE '{"k":"ms","ms":[' || string_agg(body, ',' ORDER BY o) || ']}' END AS payload, min(o) AS first
      FROM packed GROUP BY alone, CASE WHEN alone THEN o ELSE before / ${NOTICE_PACK} END
  ), notified AS (
    SELECT pg_notify($8, payload) FROM (SELECT payload FROM notifications ORDER BY first) p
  )
  SELECT r.i,
         CASE WHEN m.id IS NOT NULL THEN 'stored' WHEN e.id IS NOT NULL THEN 'replayed'
              WHEN c.status = 'closed' AND ((r.party = 'person' AND c.person_id = r.author_id) OR (r.party = 'agent' AND c.agent_id = r.author_id)) THEN 'closed'
              ELSE 'not_found' END AS outcome,
         ${MESSAGE_COLUMNS.map((column) => `coalesce(m.${column}, e.${column}) AS ${column}`).join(', ')}
    FROM r LEFT JOIN m ON m.id = r.id LEFT JOIN earlier e ON e.i = r.i LEFT JOIN c ON c.id = r.conversation_id
   WHERE (SELECT count(*) FROM notified) >= 0`;

/**
 * The chat's hot statements, prepared once per pooled connection: PostgreSQL parses, analyses and
 * plans APPEND_MESSAGES' CTEs once instead of at every batch (a third of its CPU under a flood when
 * sent unnamed, issue 18).
 */
const APPEND: NamedStatement = { name: 'support_append_messages', text: APPEND_MESSAGES };

/** Messages received together are stored together; a batch in flight gathers the next one. */
const MESSAGE_BATCHING: GroupCommitOptions = { maxBatchSize: 200, maxWaitMs: 0, maxConcurrentBatches: 2 };

interface AppendRequest {
  conversationId: string;
  author: Actor;
  clientMessageId: string;
  text: string;
  masked: readonly string[];
}

/**
 * Stores a batch of receipts (arrays, one element per conversation, party and actor: the furthest
 * position each said it received, and read, 0 when none) with one statement and one commit:
 * - The batch's conversations are locked in id order (as APPEND_MESSAGES locks them: no deadlock
 *   between the two), so the positions read are the latest committed.
 * - A party's positions move only forward, never past the conversation's last message, and only
 *   for its owner (the person, or the agent assigned or last assigned); read implies received.
 * - Each party whose positions moved is announced (one notice each, in conversation order) and
 *   answered with one row; nothing is announced when they did not move.
 */
const RECORD_RECEIPTS = `WITH r AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::int[]) AS r (conversation_id, party, actor_id, delivered, read)
  ), c AS (
    SELECT id, person_id, agent_id, last_seq, person_delivered_seq, person_read_seq, agent_delivered_seq, agent_read_seq
      FROM conversations WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
  ), was AS (
    SELECT r.conversation_id, r.party, r.actor_id, r.delivered AS delivered_to, r.read AS read_to, c.last_seq,
           CASE WHEN r.party = 'person' THEN c.person_delivered_seq ELSE c.agent_delivered_seq END AS delivered_was,
           CASE WHEN r.party = 'person' THEN c.person_read_seq ELSE c.agent_read_seq END AS read_was
      FROM r JOIN c ON c.id = r.conversation_id
     WHERE (r.party = 'person' AND c.person_id = r.actor_id) OR (r.party = 'agent' AND c.agent_id = r.actor_id)
  ), p AS (
    SELECT conversation_id, party, actor_id, delivered_was, read_was,
           GREATEST(delivered_was, LEAST(GREATEST(delivered_to, read_to), last_seq)) AS delivered,
           GREATEST(read_was, LEAST(read_to, last_seq)) AS read
      FROM was
  ), moved AS (
    SELECT * FROM p WHERE delivered > delivered_was OR read > read_was
  ), u AS (
    UPDATE conversations SET
        person_delivered_seq = coalesce(pp.delivered, person_delivered_seq), person_read_seq = coalesce(pp.read, person_read_seq),
        agent_delivered_seq = coalesce(pa.delivered, agent_delivered_seq), agent_read_seq = coalesce(pa.read, agent_read_seq)
      FROM (SELECT DISTINCT conversation_id FROM moved) t
      LEFT JOIN moved pp ON pp.conversation_id = t.conversation_id AND pp.party = 'person'
      LEFT JOIN moved pa ON pa.conversation_id = t.conversation_id AND pa.party = 'agent'
     WHERE conversations.id = t.conversation_id
  ), notified AS (
    SELECT pg_notify($6, json_build_object('k', 'r', 'r', json_build_object('conversationId', conversation_id, 'party', party,
             'deliveredSeq', delivered, 'readSeq', read))::text)
      FROM (SELECT * FROM moved ORDER BY conversation_id, party) o
  )
  SELECT conversation_id, party, actor_id, delivered, read FROM moved WHERE (SELECT count(*) FROM notified) >= 0`;

const RECORD: NamedStatement = { name: 'support_record_receipts', text: RECORD_RECEIPTS };

/**
 * Its columns named: a prepared `SELECT *` fails ("cached plan must not change result type") once a
 * later migration, applied by a newer instance during a rolling deploy, adds a column to the table.
 */
const MESSAGES_AFTER: NamedStatement = {
  name: 'support_messages_after',
  text: `SELECT ${MESSAGE_COLUMNS.join(', ')} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
};

/** Receipts, like messages, are stored several to a statement and a commit: a client sends one for every message it receives. */
const RECEIPT_BATCHING: GroupCommitOptions = { maxBatchSize: 500, maxWaitMs: 0, maxConcurrentBatches: 2 };

interface ReceiptRequest {
  conversationId: string;
  actor: Actor;
  kind: 'delivered' | 'read';
  seq: number;
}

/**
 * Conversations, messages, receipts and agents' actions in the support schema. Every change a
 * connected client must see is announced on the schema's channel by the statement (or
 * transaction) that makes it, so it reaches every instance at commit, in commit order.
 */
export class ConversationStore {
  readonly channel: string;
  private readonly appender = new GroupCommit<AppendRequest, AppendOutcome>((requests) => this.appendAll(requests), MESSAGE_BATCHING);
  private readonly receipts = new GroupCommit<ReceiptRequest, ReceiptView | undefined>((requests) => this.recordReceipts(requests), RECEIPT_BATCHING);
  /** Each statement on a pooled connection of its own, committed alone; named statements prepared on each. */
  private readonly pooled: Sql;

  constructor(
    private readonly dataSource: DataSource,
    schema: string,
    private readonly eventsTopic: string,
  ) {
    this.channel = chatChannel(schema);
    this.pooled = sqlOfPool(dataSource);
  }

  async open(input: OpenConversation): Promise<ConversationView> {
    const id = randomUUID();
    return inTransaction(this.dataSource, async (sql) => {
      const [row] = await sql.query<ConversationRow>(
        `INSERT INTO conversations (id, person_id, country, app, payment_id, status, events) VALUES ($1, $2, $3, $4, $5, 'queued', 1) RETURNING *`,
        [id, input.personId, input.country, input.app, input.paymentId ?? null],
      );
      const envelope = createEvent({
        definition: SupportConversationOpenedV1,
        source: 'support',
        subject: id,
        sequence: 1,
        data: {
          conversationId: id,
          personId: input.personId,
          country: input.country,
          app: input.app as never,
          ...(input.paymentId ? { paymentId: input.paymentId } : {}),
        },
      });
      await appendToOutbox(sql, [{ topic: this.eventsTopic, envelope }]);
      return conversationView(row);
    });
  }

  async find(id: string): Promise<ConversationRow | undefined> {
    const [row] = await this.dataSource.query<ConversationRow[]>('SELECT * FROM conversations WHERE id = $1', [id]);
    return row;
  }

  /** The conversation when this actor may see it: its person, or the agent it is (or was last) assigned to. */
  async findFor(id: string, actor: Actor): Promise<ConversationRow | undefined> {
    const row = await this.find(id);
    if (!row) return undefined;
    if (actor.party === 'person' ? row.person_id !== actor.id : row.agent_id !== actor.id) return undefined;
    return row;
  }

  /**
   * Stores a message as the conversation's next position, or answers with the one stored before
   * under the same client message id (a retry). The messages this instance receives in the same
   * moment are stored together: one statement and one commit (group commit, APPEND_MESSAGES).
   * Resolves once the message is committed; a failure of this message alone rejects.
   */
  append(conversationId: string, author: Actor, clientMessageId: string, text: string, masked: readonly string[]): Promise<AppendOutcome> {
    return this.appender.submit({ conversationId, author, clientMessageId, text, masked });
  }

  /** Stops taking messages and receipts and resolves once every one taken is stored (or has failed). */
  async close(): Promise<void> {
    await Promise.all([this.appender.close(), this.receipts.close()]);
  }

  private async appendAll(requests: readonly AppendRequest[]): Promise<Array<PromiseSettledResult<AppendOutcome>>> {
    // A retry sent again before its first answer: one row, both answered with it.
    const firstOf = new Map<string, number>();
    const distinct: number[] = [];
    requests.forEach((request, index) => {
      const key = `${request.conversationId}\u0000${request.author.id}\u0000${request.clientMessageId}`;
      if (!firstOf.has(key)) {
        firstOf.set(key, index);
        distinct.push(index);
      }
    });
    const outcomes = new Map<number, PromiseSettledResult<AppendOutcome>>();
    try {
      const stored = await this.appendBatch(distinct.map((index) => requests[index]));
      distinct.forEach((index, k) => outcomes.set(index, { status: 'fulfilled', value: stored[k] }));
    } catch {
      // One row PostgreSQL refuses (or a retry stored meanwhile by another instance) fails the
      // statement: each message alone then, so only that one fails.
      for (const index of distinct) {
        const request = requests[index];
        try {
          outcomes.set(index, {
            status: 'fulfilled',
            value: await this.appendOne(request.conversationId, request.author, request.clientMessageId, request.text, request.masked),
          });
        } catch (reason) {
          outcomes.set(index, { status: 'rejected', reason });
        }
      }
    }
    return requests.map((request, index) => {
      const first = firstOf.get(`${request.conversationId}\u0000${request.author.id}\u0000${request.clientMessageId}`)!;
      const outcome = outcomes.get(first)!;
      if (first === index || outcome.status === 'rejected' || outcome.value.outcome === 'refused') return outcome;
      return { status: 'fulfilled', value: { ...outcome.value, replayed: true } };
    });
  }

  /** Distinct messages (no two with one conversation, author and client message id) in one statement. */
  private async appendBatch(requests: readonly AppendRequest[]): Promise<AppendOutcome[]> {
    const rows = await queryNamed<MessageRow & { i: number; outcome: 'stored' | 'replayed' | 'closed' | 'not_found' }>(this.pooled, APPEND, [
      requests.map((r) => r.conversationId),
      requests.map((r) => r.author.party),
      requests.map((r) => r.author.id),
      requests.map(() => randomUUID()),
      requests.map((r) => r.clientMessageId),
      requests.map((r) => r.text),
      requests.map((r) => r.masked.join(',')),
      this.channel,
    ]);
    const byOrdinal = new Map(rows.map((row) => [Number(row.i), row]));
    return requests.map((_, index): AppendOutcome => {
      const row = byOrdinal.get(index + 1);
      if (!row) throw new Error(`storing message ${index + 1} of a batch returned no row`);
      switch (row.outcome) {
        case 'stored':
        case 'replayed':
          return { outcome: 'stored', message: messageView(row), replayed: row.outcome === 'replayed' };
        case 'closed':
          return { outcome: 'refused', code: 'CONVERSATION_CLOSED', message: 'the conversation is closed' };
        default:
          return { outcome: 'refused', code: 'NOT_FOUND', message: 'no conversation of yours has this id' };
      }
    });
  }

  /** One message in its own statement: a batch's fallback, where a failing row fails alone. */
  private async appendOne(conversationId: string, author: Actor, clientMessageId: string, text: string, masked: readonly string[]): Promise<AppendOutcome> {
    let rows: MessageRow[];
    try {
      rows = await this.dataSource.query<MessageRow[]>(
        `WITH c AS (
           UPDATE conversations SET last_seq = last_seq + 1
            WHERE id = $1 AND status <> 'closed'
              AND (($2 = 'person' AND person_id = $3) OR ($2 = 'agent' AND status = 'claimed' AND agent_id = $3))
           RETURNING id, last_seq
         ), m AS (
           INSERT INTO messages (conversation_id, seq, id, client_message_id, author_role, author_id, body, masked)
           SELECT c.id, c.last_seq, $4, $5, $2, $3, $6, $7::text[] FROM c
           RETURNING *
         )
         SELECT m.*, pg_notify($8, ${MESSAGE_NOTICE}) AS notified FROM m`,
        [conversationId, author.party, author.id, randomUUID(), clientMessageId, text, masked, this.channel],
      );
    } catch (error) {
      if (sqlStateOf(error) !== UNIQUE_VIOLATION) throw error;
      rows = [];
    }
    if (rows.length === 1) return { outcome: 'stored', message: messageView(rows[0]), replayed: false };
    const [earlier] = await this.dataSource.query<MessageRow[]>(
      'SELECT * FROM messages WHERE conversation_id = $1 AND author_id = $2 AND client_message_id = $3 AND author_role = $4',
      [conversationId, author.id, clientMessageId, author.party],
    );
    if (earlier) return { outcome: 'stored', message: messageView(earlier), replayed: true };
    const conversation = await this.findFor(conversationId, author);
    if (conversation?.status === 'closed') return { outcome: 'refused', code: 'CONVERSATION_CLOSED', message: 'the conversation is closed' };
    return { outcome: 'refused', code: 'NOT_FOUND', message: 'no conversation of yours has this id' };
  }

  async messagesAfter(conversationId: string, afterSeq: number, limit = 500): Promise<MessageView[]> {
    const rows = await queryNamed<MessageRow>(this.pooled, MESSAGES_AFTER, [conversationId, afterSeq, limit]);
    return rows.map(messageView);
  }

  /**
   * Records that `actor` received (or read: read implies received) every message up to `seq`, and
   * announces the new receipt. Positions only move forward; nothing is announced when they do not.
   * The receipts this instance receives in the same moment are stored together (RECORD_RECEIPTS):
   * answered with the party's positions when they moved, else undefined.
   */
  recordReceipt(conversationId: string, actor: Actor, kind: 'delivered' | 'read', seq: number): Promise<ReceiptView | undefined> {
    return this.receipts.submit({ conversationId, actor, kind, seq });
  }

  private async recordReceipts(requests: readonly ReceiptRequest[]): Promise<Array<PromiseSettledResult<ReceiptView | undefined>>> {
    try {
      const moved = await this.recordReceiptBatch(requests);
      return requests.map((request) => ({ status: 'fulfilled', value: moved.get(receiptKey(request)) }));
    } catch {
      // One receipt PostgreSQL refuses fails the statement: each alone then, so only that one fails.
      return Promise.all(
        requests.map((request) =>
          this.recordReceiptBatch([request]).then(
            (moved): PromiseSettledResult<ReceiptView | undefined> => ({ status: 'fulfilled', value: moved.get(receiptKey(request)) }),
            (reason: unknown): PromiseSettledResult<ReceiptView | undefined> => ({ status: 'rejected', reason }),
          ),
        ),
      );
    }
  }

  /** One row per conversation, party and actor: the furthest positions its receipts name. Answers the moved ones by that key. */
  private async recordReceiptBatch(requests: readonly ReceiptRequest[]): Promise<Map<string, ReceiptView>> {
    const furthest = new Map<string, { conversationId: string; actor: Actor; delivered: number; read: number }>();
    for (const request of requests) {
      const key = receiptKey(request);
      const now = furthest.get(key) ?? { conversationId: request.conversationId, actor: request.actor, delivered: 0, read: 0 };
      now.delivered = Math.max(now.delivered, request.seq);
      if (request.kind === 'read') now.read = Math.max(now.read, request.seq);
      furthest.set(key, now);
    }
    const rows = [...furthest.values()];
    const moved = await queryNamed<{ conversation_id: string; party: Party; actor_id: string; delivered: number; read: number }>(this.pooled, RECORD, [
      rows.map((row) => row.conversationId),
      rows.map((row) => row.actor.party),
      rows.map((row) => row.actor.id),
      rows.map((row) => row.delivered),
      rows.map((row) => row.read),
      this.channel,
    ]);
    return new Map(
      moved.map((row) => [
        receiptKey({ conversationId: row.conversation_id, actor: { party: row.party, id: row.actor_id } }),
        { conversationId: row.conversation_id, party: row.party, deliveredSeq: row.delivered, readSeq: row.read },
      ]),
    );
  }

  /** An agent's claim, hand-over or close, with its audit row and (for a close) its event, announced at commit. */
  async applyAgentCommand(conversationId: string, command: AgentCommand): Promise<ConversationView> {
    return inTransaction(this.dataSource, async (sql) => {
      // Waits for an agent's refund in flight (it holds the guard shared): a close or hand-over
      // never lands while orchestration is acting on a case support signed for this conversation.
      await sql.query(`SELECT pg_advisory_xact_lock(${CONVERSATION_GUARD})`, [conversationId]);
      const [current] = await sql.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1 FOR UPDATE', [conversationId]);
      if (!current) throw new ConversationNotFoundError(conversationId);
      // An agent learns nothing of a conversation assigned to someone else beyond "not yours".
      const next = decide({ status: current.status, agentId: current.agent_id }, command);
      const closing = command.kind === 'close';
      const [row] = await sql.query<ConversationRow>(
        `UPDATE conversations SET status = $2, agent_id = $3,
            claimed_at = CASE WHEN $2 = 'claimed' AND agent_id IS DISTINCT FROM $3 THEN now() WHEN $2 = 'queued' THEN NULL ELSE claimed_at END,
            closed_at = CASE WHEN $2 = 'closed' THEN now() ELSE closed_at END,
            close_reason = $4, events = events + $5
          WHERE id = $1 RETURNING *`,
        [conversationId, next.status, next.agentId, closing ? command.reason : null, closing ? 1 : 0],
      );
      await this.recordAction(sql, conversationId, command.agentId, command.kind, {
        ...(command.kind === 'hand-over' ? { toAgentId: command.toAgentId ?? null } : {}),
        ...(command.kind === 'close' ? { reason: command.reason } : {}),
      });
      if (closing) {
        const envelope = createEvent({
          definition: SupportConversationClosedV1,
          source: 'support',
          subject: conversationId,
          sequence: row.events,
          data: { conversationId, agentId: command.agentId, reason: command.reason },
        });
        await appendToOutbox(sql, [{ topic: this.eventsTopic, envelope }]);
      }
      const view = conversationView(row);
      await sql.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify({ k: 'u', v: view } satisfies ChatNotice)]);
      return view;
    });
  }

  async recordAction(sql: Sql, conversationId: string, agentId: string, action: string, details: object): Promise<void> {
    await sql.query('INSERT INTO agent_actions (conversation_id, agent_id, action, details) VALUES ($1, $2, $3, $4::jsonb)', [
      conversationId,
      agentId,
      action,
      JSON.stringify(details),
    ]);
  }

  /** Queued conversations, oldest first (optionally of one country). */
  async queue(country: string | undefined, limit: number): Promise<QueuedConversationView[]> {
    const rows = await this.dataSource.query<Array<ConversationRow & { waiting: number }>>(
      `SELECT *, extract(epoch FROM now() - opened_at)::int AS waiting FROM conversations
        WHERE status = 'queued' AND ($1::text IS NULL OR country = $1) ORDER BY opened_at, id LIMIT $2`,
      [country ?? null, limit],
    );
    return rows.map((row) => ({ ...conversationView(row), waitingSeconds: row.waiting }));
  }

  /** The conversations assigned to an agent now. */
  async assignedTo(agentId: string): Promise<ConversationView[]> {
    const rows = await this.dataSource.query<ConversationRow[]>(`SELECT * FROM conversations WHERE status = 'claimed' AND agent_id = $1 ORDER BY claimed_at`, [
      agentId,
    ]);
    return rows.map(conversationView);
  }

  /** Everything kept of a person's conversations, messages included, oldest first: their export. */
  async exportFor(personId: string): Promise<Array<ConversationView & { messages: MessageView[] }>> {
    const conversations = await this.dataSource.query<ConversationRow[]>('SELECT * FROM conversations WHERE person_id = $1 ORDER BY opened_at, id', [personId]);
    if (conversations.length === 0) return [];
    const messages = await this.dataSource.query<MessageRow[]>('SELECT * FROM messages WHERE conversation_id = ANY($1::uuid[]) ORDER BY conversation_id, seq', [
      conversations.map((row) => row.id),
    ]);
    const byConversation = new Map<string, MessageView[]>();
    for (const row of messages) byConversation.set(row.conversation_id, [...(byConversation.get(row.conversation_id) ?? []), messageView(row)]);
    return conversations.map((row) => ({ ...conversationView(row), messages: byConversation.get(row.id) ?? [] }));
  }

  /**
   * Deletes conversations closed more than `retentionDays` ago, with their messages; answers how
   * many, and when the next one comes due (epoch ms), if any.
   */
  async deleteExpired(retentionDays: number): Promise<{ deleted: number; nextDueAt?: number }> {
    const deleted = await this.dataSource.query<Array<{ id: string }>>(
      `WITH d AS (DELETE FROM conversations WHERE status = 'closed' AND closed_at < now() - make_interval(days => $1) RETURNING id) SELECT id FROM d`,
      [retentionDays],
    );
    const [next] = await this.dataSource.query<Array<{ due: Date | null }>>(
      `SELECT min(closed_at) + make_interval(days => $1) AS due FROM conversations WHERE status = 'closed'`,
      [retentionDays],
    );
    return { deleted: deleted.length, ...(next?.due ? { nextDueAt: new Date(next.due).getTime() } : {}) };
  }
}

export { ConversationRuleError };

function receiptKey(request: { conversationId: string; actor: Actor }): string {
  return `${request.conversationId}\u0000${request.actor.party}\u0000${request.actor.id}`;
}
