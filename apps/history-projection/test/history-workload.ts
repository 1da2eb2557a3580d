/**
 * A deterministic mixed workload for tests and the bench: people with wallets and saved cards,
 * merchants and non-profits, and payments that succeed, fail, are canceled, refunded (in part or
 * whole) and disputed, with the ledger transactions the wallet would post for them. Envelopes
 * are built as plain JSON (validating a million with class-validator would take a minute); a
 * unit test checks a sample against the contracts.
 *
 * The ledger events follow the wallet's chart of accounts and metadata (docs/adr/0007), without
 * its fees: a card capture debits `system.psp-clearing.stripe.<CUR>` and credits the payee's
 * account; a wallet-balance capture debits the payer's `person.<id>.wallet.<CUR>`; a refund or a
 * lost dispute takes it back. Each carries `paymentId` (and `refundId` / `disputeId`) in its
 * metadata. tools/history/ledger-consistency.int-spec.ts posts through the wallet's own rules.
 */
import type { EventEnvelope } from '@pay/contracts';
import { paymentLinkMetadata, paymentLinkOf } from '@pay/contracts';

export interface WorkloadOptions {
  seed?: number;
  persons?: number;
  merchants?: number;
  nonProfits?: number;
  payments?: number;
  /** Emit `ledger.transaction.recorded` events for money that moved. */
  ledger?: boolean;
  start?: Date;
  /** Average gap between two payments' starts (milliseconds). */
  spacingMs?: number;
  /** Prefix of payment ids (another workload for the same people needs other ids). */
  paymentPrefix?: string;
  /** Only these people pay (default: anyone). */
  payerIds?: string[];
  /** Emit the people's wallet events (default true; a second chunk of the same people does not). */
  walletEvents?: boolean;
}

export interface Workload {
  events: EventEnvelope[];
  persons: string[];
  merchants: string[];
  nonProfits: string[];
  /** Wallet-funded transfers need balance; these are the account ids of the ledger events. */
  accountOf(ownerType: 'person' | 'merchant' | 'non-profit', id: string, currency: string): string;
}

const APPS = ['facebook', 'instagram', 'messenger', 'whatsapp'] as const;
const COUNTRIES: ReadonlyArray<{ country: string; currency: string }> = [
  { country: 'US', currency: 'USD' },
  { country: 'DE', currency: 'EUR' },
  { country: 'FR', currency: 'EUR' },
  { country: 'GB', currency: 'GBP' },
];
const BRANDS = ['visa', 'mastercard', 'amex'] as const;

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Account ids of the wallet's chart of accounts (docs/adr/0007-payment-postings.md). */
export function accountOf(ownerType: 'person' | 'merchant' | 'non-profit', id: string, currency: string): string {
  if (ownerType === 'person') return `person.${id}.wallet.${currency}`;
  return `${ownerType === 'non-profit' ? 'nonprofit' : 'merchant'}.${id}.payable.${currency}`;
}

export const clearingAccount = (currency: string): string => `system.psp-clearing.stripe.${currency}`;

export function generateWorkload(options: WorkloadOptions = {}): Workload {
  const random = prng(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const chance = (p: number): boolean => random() < p;
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const uuid = (): string => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;

  const personCount = options.persons ?? 50;
  const persons = Array.from({ length: personCount }, (_, i) => `p-${String(i + 1).padStart(6, '0')}`);
  const merchants = Array.from({ length: options.merchants ?? 10 }, (_, i) => `m-${String(i + 1).padStart(5, '0')}`);
  const nonProfits = Array.from({ length: options.nonProfits ?? 3 }, (_, i) => `np-${String(i + 1).padStart(4, '0')}`);
  const start = (options.start ?? new Date('2026-01-05T08:00:00.000Z')).getTime();
  const spacing = options.spacingMs ?? 60_000;
  const withLedger = options.ledger ?? true;

  const events: EventEnvelope[] = [];
  const home = new Map<string, { country: string; currency: string }>();
  const cards = new Map<string, string>();
  const walletSequence = new Map<string, number>();
  const balances = new Map<string, bigint>();
  let ledgerPosition = 0;

  const envelope = (type: string, source: EventEnvelope['source'], subject: string, sequence: number, at: number, data: object): EventEnvelope => {
    const e = { id: uuid(), type, version: 1, source, subject, sequence, occurredAt: new Date(at).toISOString(), correlationId: uuid(), data };
    events.push(e);
    return e;
  };
  const walletEvent = (type: string, personId: string, at: number, data: object): void => {
    const sequence = (walletSequence.get(personId) ?? 0) + 1;
    walletSequence.set(personId, sequence);
    envelope(type, 'wallet', personId, sequence, at, { personId, actor: `person:${personId}`, ...data });
  };
  const ledgerEvent = (
    at: number,
    transactionId: string,
    reverses: string | undefined,
    postings: Array<[string, 'debit' | 'credit']>,
    amount: bigint,
    currency: string,
    metadata: Record<string, string>,
  ): void => {
    if (!withLedger) return;
    ledgerPosition += 1;
    envelope('ledger.transaction.recorded', 'wallet', paymentLinkOf(metadata)?.paymentId ?? transactionId, ledgerPosition, at, {
      transactionId,
      kind: reverses ? 'reversal' : 'transfer',
      ...(reverses ? { reverses } : {}),
      position: String(ledgerPosition),
      recordedAt: new Date(at).toISOString(),
      postings: postings.map(([accountId, direction]) => ({ accountId, direction, amount: amount.toString(), currency, layer: 'posted' })),
      metadata,
      hash: hex(64),
    });
  };

  // Wallets: opened, a saved card, contact details, apps. Each person's home and card come from
  // their index, so a later chunk of the same people (walletEvents: false) agrees with the first.
  persons.forEach((personId, i) => {
    const at = start - 86_400_000 + i * 1_000;
    const place = COUNTRIES[i % COUNTRIES.length];
    home.set(personId, place);
    cards.set(personId, `0c5e1d2a-7b3f-4e8a-9c1d-${String(i).padStart(12, '0')}`);
    if (options.walletEvents === false) return;
    walletEvent('wallet.wallet.opened', personId, at, { country: place.country, apps: [] });
    walletEvent('wallet.apps.changed', personId, at + 10, { apps: ['facebook', 'instagram'], enabled: ['facebook', 'instagram'], disabled: [] });
    walletEvent('wallet.payment-method.added', personId, at + 20, {
      methodId: cards.get(personId),
      kind: 'card',
      display: {
        brand: pick(BRANDS),
        last4: String(1000 + Math.floor(random() * 9000)),
        expMonth: 1 + Math.floor(random() * 12),
        expYear: 2030,
        country: place.country,
      },
      preferred: true,
    });
    if (chance(0.5)) walletEvent('wallet.contact.changed', personId, at + 30, { hasEmail: true, hasPhone: chance(0.5) });
  });

  const paymentCount = options.payments ?? 200;
  for (let n = 1; n <= paymentCount; n += 1) {
    const paymentId = `${options.paymentPrefix ?? 'pay'}-${String(n).padStart(8, '0')}`;
    let at = start + n * spacing + Math.floor(random() * spacing);
    const payerId = pick(options.payerIds ?? persons);
    const { country, currency } = home.get(payerId)!;
    const roll = random();
    const kind = roll < 0.6 ? 'purchase' : roll < 0.75 ? 'donation' : 'transfer';
    let counterparty: { type: 'merchant' | 'non-profit' | 'person'; id: string };
    if (kind === 'purchase') counterparty = { type: 'merchant', id: pick(merchants) };
    else if (kind === 'donation') counterparty = { type: 'non-profit', id: pick(nonProfits) };
    else {
      let other = pick(persons);
      while (other === payerId && persons.length > 1) other = pick(persons);
      counterparty = { type: 'person', id: other };
    }
    const amount = BigInt(100 + Math.floor(random() * 49_900));
    const payerAccount = accountOf('person', payerId, currency);
    // Wallet balance pays a transfer when it can; otherwise the saved card.
    const fromWallet = kind === 'transfer' && (balances.get(payerAccount) ?? 0n) >= amount && chance(0.7);
    const provider = fromWallet ? 'wallet' : 'stripe';
    const reference = fromWallet ? `res-${paymentId}` : `pi_${hex(24)}`;
    const money = { amount: amount.toString(), currency };
    let seq = 0;
    const pay = (name: string, data: object): void => {
      seq += 1;
      at += 1_000 + Math.floor(random() * 5_000);
      envelope(`payments.payment.${name}`, 'payment-orchestration', paymentId, seq, at, { paymentId, ...data });
    };
    const movement = (value: bigint) => ({ kind, payerId, counterparty, provider, reference, amount: { amount: value.toString(), currency } });

    pay('initiated', {
      requestId: uuid(),
      kind,
      payerId,
      counterparty,
      app: pick(APPS),
      country,
      amount: money,
      captureMethod: 'automatic',
      ...(fromWallet ? {} : { paymentMethodId: cards.get(payerId) }),
    });
    const outcome = random();
    if (!fromWallet && chance(0.1)) pay('action-required', { provider, reference });
    if (outcome < 0.08) {
      pay('failed', { code: 'card_declined', declineCode: 'insufficient_funds' });
      continue;
    }
    pay('authorized', { amount: money, provider, reference });
    if (outcome < 0.12) {
      pay('canceled', { reason: 'requested' });
      continue;
    }
    pay('captured', { ...movement(amount), authorizedAmount: money });
    const creditAccount = accountOf(counterparty.type, counterparty.id, currency);
    const debitAccount = fromWallet ? payerAccount : clearingAccount(currency);
    ledgerEvent(
      at + 50,
      `cap-${paymentId}`,
      undefined,
      [
        [debitAccount, 'debit'],
        [creditAccount, 'credit'],
      ],
      amount,
      currency,
      paymentLinkMetadata({ paymentId }),
    );
    if (fromWallet) balances.set(payerAccount, (balances.get(payerAccount) ?? 0n) - amount);
    if (counterparty.type === 'person') balances.set(creditAccount, (balances.get(creditAccount) ?? 0n) + amount);

    // Money received by a person is never taken back here: the receiver may have spent it.
    if (counterparty.type === 'person') continue;
    const after = random();
    if (after < 0.12) {
      const refunds = chance(0.5) ? [amount] : [amount / 3n, amount / 4n].filter((a) => a > 0n);
      let refunded = 0n;
      refunds.forEach((value, i) => {
        const refundId = `re-${paymentId}-${i + 1}`;
        pay('refund-requested', { refundId, amount: { amount: value.toString(), currency }, reason: 'requested_by_customer' });
        if (chance(0.1)) {
          pay('refund-failed', { refundId, reason: 'insufficient_merchant_balance' });
          return;
        }
        refunded += value;
        pay('refunded', { ...movement(value), refundId, refundedTotal: { amount: refunded.toString(), currency }, full: refunded === amount });
        ledgerEvent(
          at + 50,
          `ref-${refundId}`,
          `cap-${paymentId}`,
          [
            [creditAccount, 'debit'],
            [debitAccount, 'credit'],
          ],
          value,
          currency,
          paymentLinkMetadata({ paymentId, refundId }),
        );
        if (fromWallet) balances.set(payerAccount, (balances.get(payerAccount) ?? 0n) + value);
      });
    } else if (after < 0.14 && !fromWallet) {
      const disputeId = `dp-${paymentId}`;
      pay('dispute-opened', { disputeId, amount: money, reason: 'fraudulent' });
      if (chance(0.5)) pay('dispute-won', { disputeId, amount: money });
      else {
        pay('dispute-lost', { ...movement(amount), disputeId });
        ledgerEvent(
          at + 50,
          `cb-${disputeId}`,
          `cap-${paymentId}`,
          [
            [creditAccount, 'debit'],
            [clearingAccount(currency), 'credit'],
          ],
          amount,
          currency,
          paymentLinkMetadata({ paymentId, disputeId }),
        );
      }
    }
  }
  events.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0));
  // The journal is one ordered stream: positions follow the order of recording.
  let position = 0;
  for (const event of events) {
    if (event.type !== 'ledger.transaction.recorded') continue;
    position += 1;
    event.sequence = position;
    (event.data as { position: string }).position = String(position);
  }
  return { events, persons, merchants, nonProfits, accountOf };
}

/** Kafka key of an event (its subject), and the partition a key lands on for a given count (a stable hash, not Kafka's murmur2). */
export function partitionOf(subject: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < subject.length; i += 1) hash = (Math.imul(hash, 31) + subject.charCodeAt(i)) | 0;
  return Math.abs(hash) % partitions;
}

/** A Fisher–Yates shuffle with the given random source. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
