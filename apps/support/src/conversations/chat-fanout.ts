import type { ChannelSubscription, PgNotifications } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import type { ChatNotice } from './conversation-store';

export interface ChatFanoutOptions {
  /** The process's LISTEN connection. */
  notifications: PgNotifications;
  channel: string;
  logger: Logger;
}

/**
 * How every instance learns what any instance committed: the process's LISTEN connection
 * (PgNotifications) subscribed to the schema's channel. Each message, receipt and assignment is
 * NOTIFYed by the statement that stores it, so notices arrive at commit, in commit order (for one
 * conversation: in position order), whichever instance the writer was. A lost connection is
 * reopened with backoff, and `onResume` listeners then catch up from the tables (notices sent
 * meanwhile are lost to this instance).
 */
export class ChatFanout {
  private subscription?: ChannelSubscription;
  private started = false;
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
    this.subscription = await this.options.notifications.subscribe(this.options.channel, {
      notified: (payload) => this.notified(payload),
      // LISTEN in effect again after a loss (or after a failed first attempt): catch up.
      listening: () => {
        if (this.started) for (const listener of this.resumeListeners) listener();
      },
    });
    this.started = true;
  }

  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
  }

  private notified(payload: string): void {
    if (!payload) return;
    let notice: ChatNotice;
    try {
      notice = JSON.parse(payload) as ChatNotice;
    } catch {
      this.options.logger.warn({ channel: this.options.channel }, 'support chat: a notice that is not JSON was ignored');
      return;
    }
    for (const listener of this.noticeListeners) listener(notice);
  }
}
