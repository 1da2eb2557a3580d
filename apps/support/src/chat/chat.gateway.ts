import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit } from '@nestjs/websockets';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { AccessTokenVerifier, Principal } from '@pay/auth';
import { ACCESS_TOKEN_VERIFIER, AuthenticationError, KeySetUnavailableError } from '@pay/auth';
import type { Logger } from '@pay/observability';
import { LOGGER, SERVICE_CONFIG } from '@pay/platform';
import type { Namespace, Socket } from 'socket.io';
import type { SupportConfig } from '../config';
import type { MessageView, Party } from '@pay/contracts';
import { conversationView } from '../conversations/chat-views';
import { ChatFanout } from '../conversations/chat-fanout';
import type { ChatNotice, MessageNotice } from '../conversations/conversation-store';
import { ConversationStore } from '../conversations/conversation-store';
import { screenMessage } from '../domain/screen-message';
import type { ChatAck } from './chat-messages';
import { JoinConversation, SendChatMessage, SendChatReceipt } from '@pay/contracts';
import { parseChatMessage } from './chat-messages';
import { chatMetrics } from './chat-metrics';
import { WriteCoalescer } from './coalesce-writes';

/** Where this socket is in one conversation it joined. */
interface Joined {
  /** The last position emitted to it: messages are emitted in order, each once. */
  lastSent: number;
  /** A read from the table is running; notices meanwhile make it read again rather than overtake it. */
  catchingUp: boolean;
  again: boolean;
}

interface ChatSocketData {
  principal: Principal;
  party: Party;
  joined: Map<string, Joined>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- socket.io's event maps: the events are documented in docs/support-chat.md
type ChatSocket = Socket<any, any, any, ChatSocketData>;

const BEARER = /^Bearer (\S+)$/;

/**
 * The chat over WebSockets (socket.io, namespace `/support`, on the service's HTTP port). The
 * handshake carries the same access token as HTTP (`auth: { token }` or an `Authorization` header);
 * persons and support agents only. A client joins a conversation it may see and then gets every
 * message from the position it names, in order and once, whichever instance stored it (notices
 * over PostgreSQL LISTEN/NOTIFY, ChatFanout); a message is acknowledged only once stored.
 * No message text is logged or measured.
 */
@Injectable()
@WebSocketGateway({ namespace: '/support', serveClient: false })
export class ChatGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleInit, OnApplicationShutdown {
  private namespace?: Namespace;
  /** This instance's sockets by conversation they joined. */
  private readonly rooms = new Map<string, Set<ChatSocket>>();
  /** This instance's agents' sockets, to tell them of conversations handed to them. */
  private readonly agents = new Map<string, Set<ChatSocket>>();
  private readonly metrics = chatMetrics();
  private readonly connections = { person: 0, agent: 0 };
  private readonly coalescer = new WriteCoalescer();

  constructor(
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier,
    @Inject(SERVICE_CONFIG) private readonly config: SupportConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly store: ConversationStore,
    private readonly fanout: ChatFanout,
  ) {}

  async onModuleInit(): Promise<void> {
    this.fanout.onNotice((notice) => this.onNotice(notice));
    // Notices lost while the LISTEN connection was down: every joined socket reads what it missed.
    this.fanout.onResume(() => {
      for (const [conversationId, sockets] of this.rooms) for (const socket of sockets) void this.catchUp(socket, conversationId);
    });
    await this.fanout.start();
  }

  async onApplicationShutdown(): Promise<void> {
    // Messages taken are stored and answered before the sockets go.
    await this.store.close();
    await this.fanout.stop();
    this.namespace?.disconnectSockets(true);
  }

  afterInit(namespace: Namespace): void {
    this.namespace = namespace;
    namespace.use((socket, next) => {
      this.authenticate(socket as ChatSocket).then(
        () => next(),
        (error: Error) => next(error),
      );
    });
  }

  handleConnection(socket: ChatSocket): void {
    // The chat's hot path (a message, and a receipt for each message received), bound without Nest's
    // per-event pipeline (an rxjs chain, parameter resolution and exception zone per event: ~10% of an
    // instance's CPU under a flood, issue 18); it needs none of it: answering() acknowledges every
    // outcome, failures as TRY_AGAIN. Without an acknowledgement callback the answer is an event of
    // the same name, as Nest answered.
    const bind = (event: string, work: (body: unknown) => Promise<ChatAck<object>>): void => {
      socket.on(event, (body: unknown, ack?: unknown) => {
        void this.answering(event, () => work(body)).then((answer) =>
          typeof ack === 'function' ? (ack as (answer: unknown) => void)(answer) : socket.emit(event, answer),
        );
      });
    };
    this.coalescer.watch(socket.conn);
    bind('message.send', (body) => this.sendMessage(socket, body));
    bind('message.receipt', (body) => this.recordReceipt(socket, body));
    this.connections[socket.data.party] += 1;
    this.metrics.connections.set(this.connections[socket.data.party], { role: socket.data.party });
    if (socket.data.party === 'agent')
      this.agents.set(socket.data.principal.subject, (this.agents.get(socket.data.principal.subject) ?? new Set()).add(socket));
  }

  handleDisconnect(socket: ChatSocket): void {
    if (!socket.data.party) return;
    this.connections[socket.data.party] -= 1;
    this.metrics.connections.set(this.connections[socket.data.party], { role: socket.data.party });
    for (const conversationId of socket.data.joined?.keys() ?? []) this.leave(socket, conversationId);
    this.agents.get(socket.data.principal.subject)?.delete(socket);
  }

  @SubscribeMessage('conversation.join')
  async join(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown): Promise<ChatAck> {
    return this.answering('conversation.join', () => this.joinConversation(socket, body));
  }

  private async joinConversation(socket: ChatSocket, body: unknown): Promise<ChatAck> {
    const request = parseChatMessage(JoinConversation, body);
    if (!(request instanceof JoinConversation)) return request;
    const row = await this.store.findFor(request.conversationId, this.actorOf(socket));
    if (!row || (socket.data.party === 'agent' && row.status === 'queued')) {
      return { ok: false, code: 'NOT_FOUND', message: 'no conversation of yours has this id' };
    }
    const after = request.afterSeq ?? (socket.data.party === 'person' ? row.person_delivered_seq : row.agent_delivered_seq);
    const state: Joined = { lastSent: Math.min(after, row.last_seq), catchingUp: false, again: false };
    socket.data.joined.set(row.id, state);
    this.rooms.set(row.id, (this.rooms.get(row.id) ?? new Set()).add(socket));
    // The answer first, then what the socket missed, then whatever comes live.
    setImmediate(() => void this.catchUp(socket, row.id));
    return { ok: true, conversation: conversationView(row) };
  }

  @SubscribeMessage('conversation.leave')
  leaveConversation(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown): ChatAck {
    const request = parseChatMessage(JoinConversation, body);
    if (!(request instanceof JoinConversation)) return request;
    this.leave(socket, request.conversationId);
    return { ok: true };
  }

  /** `message.send` (bound in handleConnection). */
  private async sendMessage(socket: ChatSocket, body: unknown): Promise<ChatAck<{ message: MessageView; replayed: boolean }>> {
    const request = parseChatMessage(SendChatMessage, body);
    if (!(request instanceof SendChatMessage)) return request;
    const role = { role: socket.data.party };
    const screened = screenMessage(request.text, this.config.SUPPORT_MAX_MESSAGE_LENGTH);
    if (screened.outcome === 'refused') {
      this.metrics.messages.add(1, { ...role, outcome: screened.code });
      // Ids only: the text (and what was found in it) is never logged.
      this.logger.info({ conversationId: request.conversationId, code: screened.code }, 'support chat: message refused before storage');
      return { ok: false, code: screened.code, message: screened.message };
    }
    const outcome = await this.store.append(request.conversationId, this.actorOf(socket), request.clientMessageId, screened.text, screened.masked);
    if (outcome.outcome === 'refused') {
      this.metrics.messages.add(1, { ...role, outcome: outcome.code });
      return { ok: false, code: outcome.code, message: outcome.message };
    }
    this.metrics.messages.add(1, { ...role, outcome: outcome.replayed ? 'replayed' : 'stored', ...(screened.masked.length > 0 ? { masked: 'iban' } : {}) });
    return { ok: true, message: outcome.message, replayed: outcome.replayed };
  }

  /** `message.receipt` (bound in handleConnection). */
  private async recordReceipt(socket: ChatSocket, body: unknown): Promise<ChatAck> {
    const request = parseChatMessage(SendChatReceipt, body);
    if (!(request instanceof SendChatReceipt)) return request;
    await this.store.recordReceipt(request.conversationId, this.actorOf(socket), request.kind, request.seq);
    return { ok: true };
  }

  /**
   * Every client event gets an answer: a failure (PostgreSQL slow or away) is acknowledged as
   * TRY_AGAIN instead of leaving the client waiting; a retried send with the same client message
   * id is stored once. Logged without the payload.
   */
  private async answering<T extends object>(event: string, work: () => Promise<ChatAck<T>>): Promise<ChatAck<T>> {
    try {
      return await work();
    } catch (error) {
      this.logger.warn({ err: error, event }, 'support chat: a client event failed; answered TRY_AGAIN');
      return {
        ok: false,
        code: 'TRY_AGAIN',
        message: 'the chat could not do this just now; send it again (a message with the same clientMessageId is stored once)',
      };
    }
  }

  private async authenticate(socket: ChatSocket): Promise<void> {
    const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const header = BEARER.exec(socket.handshake.headers.authorization ?? '')?.[1];
    const token = typeof fromAuth === 'string' ? fromAuth : header;
    let principal: Principal;
    try {
      if (!token) throw new AuthenticationError('missing', 'send an access token: auth: { token: "<JWT>" } or Authorization: Bearer <JWT>');
      principal = await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof KeySetUnavailableError) throw Object.assign(new Error(error.message), { data: { code: 'AUTH_KEYS_UNAVAILABLE' } });
      if (error instanceof AuthenticationError) throw Object.assign(new Error(error.message), { data: { code: 'UNAUTHENTICATED' } });
      throw error;
    }
    if (principal.role !== 'person' && principal.role !== 'support') {
      throw Object.assign(new Error(`the chat is open to person, support; the token's role is ${principal.role}`), { data: { code: 'FORBIDDEN' } });
    }
    socket.data.principal = principal;
    socket.data.party = principal.role === 'person' ? 'person' : 'agent';
    socket.data.joined = new Map();
  }

  private actorOf(socket: ChatSocket): { party: Party; id: string } {
    return { party: socket.data.party, id: socket.data.principal.subject };
  }

  private leave(socket: ChatSocket, conversationId: string): void {
    socket.data.joined.delete(conversationId);
    const room = this.rooms.get(conversationId);
    room?.delete(socket);
    if (room?.size === 0) this.rooms.delete(conversationId);
  }

  private onNotice(notice: ChatNotice): void {
    switch (notice.k) {
      case 'm':
        return this.onMessageNotice(notice);
      case 'ms':
        for (const message of notice.ms) this.onMessageNotice(message);
        return;
      case 'r':
        for (const socket of this.rooms.get(notice.r.conversationId) ?? []) socket.emit('receipt', notice.r);
        return;
      case 'u': {
        const view = notice.v;
        for (const socket of [...(this.rooms.get(view.id) ?? [])]) {
          socket.emit('conversation.updated', view);
          // An agent it was handed away from (or who lost it to the queue) stops receiving it.
          if (socket.data.party === 'agent' && view.agentId !== socket.data.principal.subject) this.leave(socket, view.id);
        }
        if (view.status === 'claimed' && view.agentId) {
          for (const socket of this.agents.get(view.agentId) ?? []) if (!socket.data.joined.has(view.id)) socket.emit('conversation.assigned', view);
        }
        return;
      }
    }
  }

  private onMessageNotice(notice: MessageNotice): void {
    const conversationId = 'm' in notice ? notice.m.conversationId : notice.c;
    for (const socket of this.rooms.get(conversationId) ?? []) {
      const state = socket.data.joined.get(conversationId);
      if (!state) continue;
      if (state.catchingUp) {
        state.again = true;
      } else if ('m' in notice && notice.m.seq === state.lastSent + 1) {
        this.emitMessage(socket, state, notice.m, true);
      } else if (('m' in notice ? notice.m.seq : notice.s) > state.lastSent) {
        // A gap (a notice lost, or a message too long to travel in one): read the table.
        void this.catchUp(socket, conversationId);
      }
    }
  }

  private emitMessage(socket: ChatSocket, state: Joined, message: MessageView, live: boolean): void {
    state.lastSent = message.seq;
    socket.emit('message', message);
    if (live) this.metrics.delivery.record(Math.max(0, Date.now() - Date.parse(message.sentAt)) / 1000, { role: socket.data.party });
  }

  /** Emits from the table every message after the last one this socket got, until nothing new came meanwhile. */
  private async catchUp(socket: ChatSocket, conversationId: string): Promise<void> {
    const state = socket.data.joined.get(conversationId);
    if (!state) return;
    if (state.catchingUp) {
      state.again = true;
      return;
    }
    state.catchingUp = true;
    try {
      do {
        state.again = false;
        for (;;) {
          const messages = await this.store.messagesAfter(conversationId, state.lastSent);
          if (socket.data.joined.get(conversationId) !== state) return;
          for (const message of messages) this.emitMessage(socket, state, message, false);
          if (messages.length < 500) break;
        }
      } while (state.again);
    } catch (error) {
      this.logger.warn({ err: error, conversationId }, 'support chat: catching a socket up failed; it gets the rest when it rejoins');
    } finally {
      state.catchingUp = false;
    }
  }
}
