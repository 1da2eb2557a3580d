import type { Logger } from '@pay/observability';
import { backoffDelayMs } from '@pay/messaging';
import { Client } from 'pg';
import type { ChatNotice } from './conversation-store';

export interface ChatFanoutOptions {
  databaseUrl: string;
  channel: string;
  logger: Logger;
}

/**
 * How every instance learns what any instance committed: one PostgreSQL connection LISTENing on
 * the schema's channel. Each message, receipt and assignment is NOTIFYed by the statement that
 * stores it, so notices arrive at commit, in commit order (for one conversation: in position order),
 * whichever instance the writer was. A lost connection is reopened with backoff, and `onResume`
 * listeners then catch up from the tables (notices sent meanwhile are lost to this instance).
 */
export class ChatFanout {
  private client?: Client;
  private stopped = false;
  private failures = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private readonly noticeListeners: Array<(notice: ChatNotice) => void> = [];
  private readonly resumeListeners: Array<() => void> = [];

  constructor(private readonly options: ChatFanoutOptions) {}

  onNotice(listener: (notice: ChatNotice) => void): void {
    this.noticeListeners.push(listener);
  }

  onResume(listener: () => void): void {
    this.resumeListeners.push(listener);
  }

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.options.databaseUrl, application_name: 'support-chat-fanout', connectionTimeoutMillis: 5_000 });
    client.on('notification', (message) => {
      if (message.channel !== this.options.channel || !message.payload) return;
      let notice: ChatNotice;
      try {
        notice = JSON.parse(message.payload) as ChatNotice;
      } catch {
        this.options.logger.warn({ channel: message.channel }, 'support chat: a notice that is not JSON was ignored');
        return;
      }
      for (const listener of this.noticeListeners) listener(notice);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    await client.connect();
    await client.query(`LISTEN "${this.options.channel}"`);
    this.client = client;
    this.failures = 0;
  }

  private lost(client: Client, error?: Error): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    this.options.logger.warn({ err: error }, 'support chat: the LISTEN connection was lost; reopening it');
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.failures += 1;
    this.reconnectTimer = setTimeout(
      () => {
        this.connect().then(
          () => {
            for (const listener of this.resumeListeners) listener();
          },
          (error: unknown) => {
            this.options.logger.warn({ err: error }, 'support chat: cannot reopen the LISTEN connection; retrying');
            this.scheduleReconnect();
          },
        );
      },
      backoffDelayMs(this.failures, { baseMs: 200, maxMs: 5_000 }),
    );
  }
}
