import type { Logger } from '@pay/observability';
import type { ApplyPspWebhook } from '../../apply-psp-webhook/apply-psp-webhook';
import type { PaymentServiceProviders } from '../../psp/payment-service-providers';
import type { WebhookHeaders } from '../../psp/psp.port';
import { WebhookSignatureError } from '../../psp/psp.port';
import type { PspWebhookInbox } from './psp-webhook-inbox';

export interface WebhookReceipt {
  readonly received: true;
  /** The event was delivered before; nothing new was recorded. */
  readonly duplicate: boolean;
}

/**
 * Use case: a PSP webhook arrives. Its signature is verified over the raw body (a forged or
 * replayed-too-late one is refused before anything is written), it is recorded once per provider
 * event id, then applied to its payment (apply-psp-webhook) unless its payment's step is waiting
 * for the PSP's answer, which then applies it (PspWebhookInbox). Once recorded the answer is 200
 * whatever applying does: a failure to apply is retried by the sweep, not by the provider.
 */
export class ReceivePspWebhook {
  constructor(
    private readonly providers: PaymentServiceProviders,
    private readonly inbox: PspWebhookInbox,
    private readonly logger: Logger,
    private readonly applier?: ApplyPspWebhook,
  ) {}

  /** Throws WebhookSignatureError for a webhook that is not provably from the provider (whose endpoint it came to). */
  async receive(provider: string, rawBody: Buffer, headers: WebhookHeaders): Promise<WebhookReceipt> {
    const psp = this.providers.named(provider);
    if (!psp) throw new WebhookSignatureError(`no ${provider} adapter here`);
    const event = await psp.verifyWebhook(rawBody, headers);
    const recorded = await this.inbox.record(event);
    // Ids and types only: payloads may carry personal data.
    this.logger.info(
      { provider: event.provider, eventId: event.id, type: event.type, firstDelivery: recorded.firstDelivery, deliveries: recorded.deliveries },
      recorded.firstDelivery ? 'PSP webhook recorded' : 'PSP webhook delivered again; already recorded',
    );
    if (this.applier && recorded.awaitingAnswer) {
      // Applied by its step's answer, or by the sweep once due.
      this.applier.expectRetryAt(recorded.retryAt);
    } else if (this.applier && !recorded.applied) {
      try {
        await this.applier.apply(event);
      } catch (error) {
        this.logger.error(
          { provider: event.provider, eventId: event.id, reason: (error as Error).message },
          'applying a PSP webhook failed; the sweep retries it',
        );
        // Recorded due a few seconds later: wake this process's sweep then.
        this.applier.expectRetryAt(recorded.retryAt);
      }
    }
    return { received: true, duplicate: !recorded.firstDelivery };
  }
}
