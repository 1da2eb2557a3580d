import { randomUUID } from 'node:crypto';

/**
 * A purchase request's bytes as an app's backend writes them to the purchase topic: the envelope as
 * JSON written by hand, not through the contract classes, so a test sends what an app sends.
 * `data.requestId` is kept when given (the envelope's subject and the Kafka key).
 */
export function appPurchaseRequest(data: Record<string, unknown>): { requestId: string; value: string } {
  const requestId = typeof data.requestId === 'string' ? data.requestId : randomUUID();
  const envelope = {
    id: randomUUID(),
    type: 'payments.purchase.requested',
    version: 1,
    source: 'app',
    subject: requestId,
    sequence: 1,
    occurredAt: new Date().toISOString(),
    correlationId: randomUUID(),
    data: { requestId, ...data },
  };
  return { requestId, value: JSON.stringify(envelope) };
}
