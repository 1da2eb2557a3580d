import type { EventEnvelope } from '@pay/contracts';
import { DailyTotalsChange } from '../src/project-events/daily-totals';
import type { HistoryEntry } from '../src/project-events/history-entries';
import { deriveEntries } from '../src/project-events/history-entries';
import type { PaymentFacts } from '../src/project-events/payment-facts';
import { applyLedgerLink, applyPaymentEvent, ledgerLinkOf, paymentIdOf } from '../src/project-events/payment-facts';
import { isLedgerEvent, isPaymentEvent } from '../src/project-events/projectable-event';
import type { MethodRow, WalletRow } from '../src/project-events/wallet-profile';
import { applyMethodEvent, applyWalletEvent, isProjectedWalletEvent, methodIdOf } from '../src/project-events/wallet-profile';
import type { LedgerTransactionRecordedData } from '@pay/contracts';

export interface InMemoryReadModel {
  facts: Map<string, PaymentFacts>;
  entries: Map<string, HistoryEntry>;
  wallets: Map<string, WalletRow>;
  methods: Map<string, MethodRow>;
}

/** The read model computed from scratch by the pure folds alone: what the SQL projection must agree with. */
export function projectInMemory(events: readonly EventEnvelope[]): InMemoryReadModel {
  const facts = new Map<string, PaymentFacts>();
  const wallets = new Map<string, WalletRow>();
  const methods = new Map<string, MethodRow>();
  for (const event of events) {
    if (isPaymentEvent(event)) {
      const id = paymentIdOf(event);
      facts.set(id, applyPaymentEvent(facts.get(id), event));
    } else if (isLedgerEvent(event)) {
      const link = ledgerLinkOf(event.data as LedgerTransactionRecordedData);
      if (link) facts.set(link.paymentId, applyLedgerLink(facts.get(link.paymentId), link.paymentId, link.transactionId, link.link));
    } else if (isProjectedWalletEvent(event)) {
      const personId = (event.data as { personId: string }).personId;
      wallets.set(personId, applyWalletEvent(wallets.get(personId), event));
      const methodId = methodIdOf(event);
      if (methodId) methods.set(methodId, applyMethodEvent(methods.get(methodId), event));
    }
  }
  const entries = new Map<string, HistoryEntry>();
  for (const f of facts.values()) {
    const methodId = f.initiated?.methodId;
    for (const entry of deriveEntries(f, methodId ? (methods.get(methodId)?.kind ?? undefined) : undefined)) entries.set(entry.entryId, entry);
  }
  return { facts, entries, wallets, methods };
}

/** Daily totals of a set of entries, keyed like the table, as text for comparisons. */
export function dailyTotalsOf(entries: Iterable<HistoryEntry>): Map<string, string> {
  const change = new DailyTotalsChange();
  for (const entry of entries) change.add(entry, 1);
  return new Map(
    change.toList().map((d) => [[d.day, d.app, d.country, d.currency, d.kind, d.methodType, d.status].join('|'), `${d.entries}|${d.amount}|${d.netAmount}`]),
  );
}
