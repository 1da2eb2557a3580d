import type { Counter, Histogram } from '@opentelemetry/api';
import type { BatchStats } from '@pay/ledger-store';
import { meter, SECONDS_BUCKETS } from '@pay/observability';

/** Commands per group-committed batch: 1 when idle, up to the batch ceiling (256) under load. */
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

let instruments: { entries: Counter; batchSize: Histogram; batchDuration: Histogram } | undefined;

/** Created on first use: instruments made before the OpenTelemetry SDK starts would stay no-ops. */
function ledgerInstruments(): NonNullable<typeof instruments> {
  instruments ??= {
    entries: meter().createCounter('ledger.journal.entries', {
      description: 'Commands recorded by the ledger, by entry kind; outcome "appended" is a new journal entry, "replayed" a retry answered with the first one',
    }),
    batchSize: meter().createHistogram('ledger.batch.size', {
      description: 'Commands per group-committed ledger batch',
      advice: { explicitBucketBoundaries: BATCH_SIZE_BUCKETS },
    }),
    batchDuration: meter().createHistogram('ledger.batch.duration', {
      description: 'Time to commit one ledger batch (one database transaction), retries included',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
  };
  return instruments;
}

/**
 * The PostgresLedger's `onBatch`: the posting rate by entry kind (what alerts watch for a stalled
 * ledger) and the shape of group commit (batch sizes, commit times). Never throws: the ledger
 * calls it inside its batch, and a failed batch is run again command by command.
 */
export function recordLedgerBatch(batch: BatchStats): void {
  try {
    measure(batch);
  } catch {
    // Metrics are best effort; the entries are committed whatever happens here.
  }
}

function measure(batch: BatchStats): void {
  const { entries, batchSize, batchDuration } = ledgerInstruments();
  batchSize.record(batch.size);
  batchDuration.record(batch.durationMs / 1000);
  const counts = new Map<string, { kind: string; outcome: string; count: number }>();
  for (const { kind, replayed } of batch.recorded) {
    const outcome = replayed ? 'replayed' : 'appended';
    const key = `${kind}:${outcome}`;
    const seen = counts.get(key);
    if (seen) seen.count += 1;
    else counts.set(key, { kind, outcome, count: 1 });
  }
  for (const { kind, outcome, count } of counts.values()) entries.add(count, { kind, outcome });
}
