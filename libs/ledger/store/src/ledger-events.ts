import { createHash } from 'node:crypto';
import type { ServiceName } from '@pay/contracts';
import { createEvent, ledgerEventSubject, LedgerTransactionRecorded } from '@pay/contracts';
import type { LedgerTransactionRecordedData } from '@pay/contracts';
import type { AppendedEntry, JournalEntry } from '@pay/ledger-domain';
import type { OutboxMessage } from '@pay/messaging';

/** Fixed namespace of the ledger's name-based (v5) event ids. */
const EVENT_ID_NAMESPACE = Buffer.from('6f1b3d1e8c2a4f0e9b7d5a3c1e2f4a6b', 'hex');

/**
 * The event id is derived from the transaction id (RFC 4122 version 5), so the same journal
 * entry always travels under the same id and consumers' inboxes deduplicate it.
 */
export function ledgerEventId(transactionId: string): string {
  const bytes = createHash('sha1').update(EVENT_ID_NAMESPACE).update(`ledger.transaction.recorded:${transactionId}`, 'utf8').digest();
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  // The first 16 of SHA-1's 20 bytes, read in place (a subarray first cost as much again as the hash).
  const hex = bytes.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function recordedData(entry: JournalEntry): LedgerTransactionRecordedData {
  const data: LedgerTransactionRecordedData = {
    transactionId: entry.transactionId,
    kind: entry.kind,
    position: entry.position.toString(),
    recordedAt: entry.recordedAt.toISOString(),
    postings: entry.postings.map((p) => ({
      accountId: p.accountId,
      direction: p.direction,
      amount: p.amount.toString(),
      currency: p.currency,
      layer: p.layer,
    })),
    metadata: { ...entry.metadata },
    hash: entry.hash,
  };
  if (entry.reverses !== null) data.reverses = entry.reverses;
  if (entry.reservationId !== null) data.reservationId = entry.reservationId;
  if (entry.expiresAt !== null) data.expiresAt = entry.expiresAt.toISOString();
  return data;
}

/**
 * `ledger.transaction.recorded` for an appended entry, keyed by the payment (or reservation) it
 * belongs to (ledgerEventSubject): the topic's partitions share the journal while one payment's
 * entries keep their order. `sequence` is the journal position.
 */
export function ledgerOutboxMessage(appended: AppendedEntry, source: ServiceName): OutboxMessage {
  const { entry } = appended;
  const data = recordedData(entry);
  const envelope = createEvent({
    definition: LedgerTransactionRecorded,
    source,
    subject: ledgerEventSubject(data),
    sequence: Number(entry.position),
    id: ledgerEventId(entry.transactionId),
    occurredAt: entry.recordedAt,
    correlationId: appended.correlationId,
    causationId: appended.causationId,
    data,
  });
  return { topic: LedgerTransactionRecorded.topic, envelope };
}
