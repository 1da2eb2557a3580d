import type { EventEnvelope } from '@pay/contracts';
import type { Sql } from '@pay/sql';
import { traceHeaders } from '@pay/observability';

export interface OutboxMessage {
  topic: string;
  envelope: EventEnvelope;
  /** Extra Kafka headers; the writer's trace context (`traceparent`) is added to them. */
  headers?: Record<string, string>;
}

/**
 * Appends events to the outbox inside the caller's transaction: they are published if and
 * only if that transaction commits. The Kafka key is the envelope's subject.
 */
export async function appendToOutbox(executor: Sql, messages: readonly OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const values: string[] = [];
  const parameters: unknown[] = [];
  for (const row of outboxRowsOf(messages)) {
    const base = parameters.length;
    values.push(`($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}::jsonb, $${base + 5}::jsonb)`);
    parameters.push(row.topic, row.messageKey, row.eventId, row.payload, row.headers);
  }
  await executor.query(`INSERT INTO outbox (topic, message_key, event_id, payload, headers) VALUES ${values.join(', ')}`, parameters);
}

/** An outbox row as its columns take it (payload and headers as JSON text). */
export interface OutboxColumns {
  topic: string;
  messageKey: string;
  eventId: string;
  payload: string;
  headers: string;
}

/**
 * The outbox rows of `messages`, for a statement that writes them itself (a store that inserts its
 * events and their outbox rows in one statement); appendToOutbox writes these same rows.
 */
export function outboxRowsOf(messages: readonly OutboxMessage[]): OutboxColumns[] {
  // The relay publishes later, in another context: keep the writer's trace with the row, so the
  // consumer continues the trace that caused the event (W3C headers on the Kafka message).
  const trace = traceHeaders();
  return messages.map((message) => ({
    topic: message.topic,
    messageKey: message.envelope.subject,
    eventId: message.envelope.id,
    payload: JSON.stringify(message.envelope),
    headers: JSON.stringify({ ...trace, ...message.headers }),
  }));
}
