import type { PspWebhookEvent, PspWebhookSubject } from '../../psp/psp.port';

/**
 * What is kept of a webhook: the provider's ids, statuses, amounts and codes in our words (the
 * parsed subject), never the provider's payload. A Stripe event carries billing details, e-mail
 * addresses and free-text metadata; none of it is needed to apply or re-apply the event.
 */
export interface WebhookRecord {
  readonly id: string;
  readonly type: string;
  readonly createdAt: string;
  readonly livemode: boolean;
  readonly subject: PspWebhookSubject;
}

const BIGINT = '$bigint';

/** The subject without free-text metadata: only our own ids travel on. */
function minimal(subject: PspWebhookSubject): PspWebhookSubject {
  if (subject.kind !== 'payment') return subject;
  const { metadata: _metadata, ...payment } = subject.payment;
  return { kind: 'payment', payment: { ...payment, metadata: {} } };
}

export function toWebhookRecord(event: PspWebhookEvent): string {
  const record: WebhookRecord = {
    id: event.id,
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    livemode: event.livemode,
    subject: minimal(event.subject),
  };
  // JSON has no bigint: amounts are tagged strings, read back exactly.
  return JSON.stringify(record, (_key, value: unknown) => (typeof value === 'bigint' ? { [BIGINT]: value.toString() } : value));
}

export function fromWebhookRecord(provider: string, stored: unknown): PspWebhookEvent {
  const record = JSON.parse(JSON.stringify(stored), (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && BIGINT in value && Object.keys(value).length === 1)
      return BigInt((value as Record<string, string>)[BIGINT]);
    return value;
  }) as WebhookRecord;
  return {
    provider,
    id: record.id,
    type: record.type,
    createdAt: new Date(record.createdAt),
    livemode: record.livemode,
    subject: record.subject,
    payload: undefined,
  };
}
