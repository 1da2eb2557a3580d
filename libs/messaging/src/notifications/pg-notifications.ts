import type { Logger } from '@pay/observability';
import { Client } from 'pg';
import type { BackoffPolicy } from '../retry/backoff';
import { backoffDelayMs } from '../retry/backoff';

/** What a channel's subscriber is told. */
export interface NotificationSubscriber {
  /** A notification on the channel, with its payload ('' when it had none). */
  notified(payload: string): void;
  /**
   * LISTEN took effect: at the subscription, or again after a lost connection was reopened.
   * Whatever was committed before it was announced to no one: this is the moment to catch up.
   */
  listening?(): void;
  /** The connection was lost: nothing is announced until `listening` is called again. */
  lost?(reason: string): void;
}

/** A subscription to one channel. */
export interface ChannelSubscription {
  /** LISTEN is in effect on an open connection: notifications on the channel arrive. */
  readonly listening: boolean;
  /** No longer notified; the channel is UNLISTENed once its last subscriber leaves. */
  close(): Promise<void>;
}

export interface PgNotificationsOptions {
  readonly connectionString: string;
  /** The connection's application_name, e.g. `wallet-listen`. */
  readonly applicationName: string;
  readonly logger: Logger;
  /** Between two attempts to reopen a lost connection (default 200 ms, doubling, up to 5 s, jittered). */
  readonly reconnect?: BackoffPolicy;
}

const RECONNECT: BackoffPolicy = { baseMs: 200, maxMs: 5_000 };

/** LISTEN's identifier quoting (channel names come from schema names, but quote them anyway). */
function quoted(channel: string): string {
  return `"${channel.replace(/"/g, '""')}"`;
}

/**
 * One PostgreSQL connection LISTENing on every channel a process subscribes to (the outbox relay's,
 * the step worker's, the payment arrivals', the chat's). A committed NOTIFY wakes every backend of
 * the database that LISTENs on anything, whatever its channels (measured: docs/benchmarks.md,
 * Session 9), so each LISTEN connection a process holds costs PostgreSQL a wake-up and a
 * transaction for every notification anyone commits: one per process, not one per feature.
 *
 * A lost connection is reopened in the background (capped, jittered backoff); every subscriber is
 * told it was lost, and told `listening` again once LISTEN is back in effect, so it can catch up
 * with what was committed meanwhile.
 */
export class PgNotifications {
  private client?: Client;
  private connecting?: Promise<void>;
  private reconnectTimer?: NodeJS.Timeout;
  private failures = 0;
  private closed = false;
  private readonly channels = new Map<string, Set<NotificationSubscriber>>();
  /** The channels LISTENed on the open connection. */
  private readonly listened = new Set<string>();

  constructor(private readonly options: PgNotificationsOptions) {}

  /**
   * Subscribes to a channel. Resolves once LISTEN took effect, or once the first attempt to connect
   * failed (then `listening` is false, the connection is retried in the background and the
   * subscriber is told `listening` when it succeeds).
   */
  async subscribe(channel: string, subscriber: NotificationSubscriber): Promise<ChannelSubscription> {
    if (this.closed) throw new Error('PgNotifications: closed');
    const subscribers = this.channels.get(channel) ?? new Set<NotificationSubscriber>();
    subscribers.add(subscriber);
    this.channels.set(channel, subscribers);
    const listening = (): boolean => this.isListening(channel) && (this.channels.get(channel)?.has(subscriber) ?? false);
    const subscription: ChannelSubscription = {
      get listening() {
        return listening();
      },
      close: () => this.unsubscribe(channel, subscriber),
    };
    if (this.client) {
      // A LISTEN that fails here means the connection is going: its 'error'/'end' reopens it and
      // LISTENs on every channel, this one included, and tells this subscriber then.
      await this.listenOn(this.client, [channel]).catch(() => undefined);
      if (this.isListening(channel)) subscriber.listening?.();
    } else {
      // connect() tells every subscriber of the channels it LISTENs on, this one included.
      await this.connect();
    }
    return subscription;
  }

  /** Closes the connection; subscribers are not told (they are stopping too). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.channels.clear();
    await this.disconnect();
  }

  private isListening(channel: string): boolean {
    return this.client !== undefined && this.listened.has(channel);
  }

  private async unsubscribe(channel: string, subscriber: NotificationSubscriber): Promise<void> {
    const subscribers = this.channels.get(channel);
    if (!subscribers?.delete(subscriber) || subscribers.size > 0) return;
    this.channels.delete(channel);
    if (this.channels.size === 0) {
      // Nobody listens any more: the connection goes (a later subscription opens another).
      clearTimeout(this.reconnectTimer);
      await this.disconnect();
      return;
    }
    const client = this.client;
    if (client && this.listened.delete(channel)) await client.query(`UNLISTEN ${quoted(channel)}`).catch(() => undefined);
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.listened.clear();
    await this.connecting?.catch(() => undefined);
    await client?.end().catch(() => undefined);
  }

  /** Opens the connection (once at a time) and LISTENs on every channel subscribed to. */
  private connect(): Promise<void> {
    this.connecting ??= this.open()
      .catch((error: unknown) => {
        if (this.failures++ === 0)
          this.options.logger.warn({ reason: (error as Error).message }, 'cannot LISTEN for notifications; retrying in the background (polling meanwhile)');
        this.scheduleReconnect();
      })
      .finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<void> {
    const client = new Client({
      connectionString: this.options.connectionString,
      application_name: this.options.applicationName,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
    });
    client.on('notification', (message) => {
      if (this.client !== client) return;
      for (const subscriber of this.channels.get(message.channel) ?? []) {
        try {
          subscriber.notified(message.payload ?? '');
        } catch (error) {
          this.options.logger.warn({ channel: message.channel, reason: (error as Error).message }, 'a notification subscriber failed');
        }
      }
    });
    client.on('error', (error) => this.lost(client, error.message));
    client.on('end', () => this.lost(client, 'connection ended'));
    try {
      await client.connect();
      if (this.closed || this.channels.size === 0) {
        await client.end();
        return;
      }
      this.client = client;
      // Subscriptions made while LISTEN ran are LISTENed too, before anyone is told.
      while ([...this.channels.keys()].some((channel) => !this.listened.has(channel)))
        await this.listenOn(
          client,
          [...this.channels.keys()].filter((channel) => !this.listened.has(channel)),
        );
    } catch (error) {
      if (this.client === client) this.client = undefined;
      this.listened.clear();
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.client !== client) return;
    if (this.failures > 0) this.options.logger.info({ failures: this.failures }, 'listening for notifications again');
    this.failures = 0;
    for (const [channel, subscribers] of this.channels) if (this.listened.has(channel)) for (const subscriber of subscribers) subscriber.listening?.();
  }

  private async listenOn(client: Client, channels: string[]): Promise<void> {
    if (channels.length === 0) return;
    await client.query(channels.map((channel) => `LISTEN ${quoted(channel)}`).join('; '));
    if (this.client === client) for (const channel of channels) this.listened.add(channel);
  }

  private lost(client: Client, reason: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.listened.clear();
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.options.logger.warn({ reason }, 'the LISTEN connection was lost; reopening it (polling meanwhile)');
    for (const subscribers of this.channels.values())
      for (const subscriber of subscribers) {
        try {
          subscriber.lost?.(reason);
        } catch (error) {
          this.options.logger.warn({ reason: (error as Error).message }, 'a notification subscriber failed');
        }
      }
    this.failures = 1;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.channels.size === 0) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), backoffDelayMs(this.failures, this.options.reconnect ?? RECONNECT));
    this.reconnectTimer.unref();
  }
}
