import 'reflect-metadata';
import type { EventEnvelope } from '@pay/contracts';
import { parseEvent } from '@pay/contracts';
import fc from 'fast-check';
import { generateWorkload } from '../../test/history-workload';
import { dailyTotalsOf, projectInMemory } from '../../test/in-memory-projection';
import { DailyTotalsChange } from './daily-totals';
import type { HistoryEntry } from './history-entries';
import { deriveEntries, methodTypeOf, paymentStatus } from './history-entries';
import { ledgerPostingRows } from './ledger-postings';
import type { PaymentFacts } from './payment-facts';
import { applyLedgerLink, applyPaymentEvent } from './payment-facts';
import { stableJson } from './projectable-event';
import type { MethodRow, WalletRow } from './wallet-profile';
import { applyMethodEvent, applyWalletEvent, isProjectedWalletEvent, methodIdOf } from './wallet-profile';

const workload = generateWorkload({ seed: 7, persons: 30, merchants: 5, nonProfits: 2, payments: 400 });
const byPayment = new Map<string, EventEnvelope[]>();
for (const event of workload.events) {
  if (!event.type.startsWith('payments.payment.')) continue;
  byPayment.set(event.subject, [...(byPayment.get(event.subject) ?? []), event]);
}
const streams = [...byPayment.values()];

let sequence = 0;
function paymentEvent(name: string, data: object, seq = ++sequence, at = `2026-03-01T10:00:${String(seq).padStart(2, '0')}.000Z`): EventEnvelope {
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    type: `payments.payment.${name}`,
    version: 1,
    source: 'payment-orchestration',
    subject: 'pay-1',
    sequence: seq,
    occurredAt: at,
    correlationId: '00000000-0000-4000-8000-000000000000',
    data: { paymentId: 'pay-1', ...data },
  };
}
const eur = (amount: number) => ({ amount: String(amount), currency: 'EUR' });
const parties = { kind: 'purchase', payerId: 'p-1', counterparty: { type: 'merchant', id: 'm-1' }, provider: 'stripe', reference: 'pi_1' };
const fold = (events: EventEnvelope[]): PaymentFacts => events.reduce<PaymentFacts | undefined>((facts, e) => applyPaymentEvent(facts, e), undefined)!;

describe('the workload generator', () => {
  it('produces envelopes the contracts accept', () => {
    for (const event of workload.events) expect(() => parseEvent(JSON.parse(JSON.stringify(event)))).not.toThrow();
  });

  it('mixes every outcome', () => {
    const statuses = new Set([...projectInMemory(workload.events).entries.values()].map((e) => `${e.kind}:${e.status}`));
    expect([...statuses]).toEqual(
      expect.arrayContaining([
        'purchase:captured',
        'purchase:failed',
        'purchase:canceled',
        'purchase:refunded',
        'purchase:partially_refunded',
        'transfer:captured',
        'donation:captured',
        'refund:succeeded',
        'refund:failed',
        'chargeback:charged_back',
      ]),
    );
  });
});

describe('payment entries', () => {
  beforeEach(() => {
    sequence = 0;
  });

  it('shows a captured purchase with what moved, its method type and its ledger transaction', () => {
    const initiated = paymentEvent('initiated', {
      requestId: '00000000-0000-4000-8000-00000000000a',
      ...parties,
      app: 'instagram',
      country: 'DE',
      amount: eur(1250),
      captureMethod: 'automatic',
      paymentMethodId: 'pm-1',
    });
    const authorized = paymentEvent('authorized', { amount: eur(1250), provider: 'stripe', reference: 'pi_1' });
    const captured = paymentEvent('captured', { ...parties, amount: eur(1250), authorizedAmount: eur(1250) });
    let facts = fold([initiated, authorized]);
    expect(deriveEntries(facts)).toEqual([expect.objectContaining({ entryId: 'payment:pay-1', status: 'authorized', netAmount: '0', methodType: 'unknown' })]);
    facts = applyPaymentEvent(facts, captured);
    facts = applyLedgerLink(facts, 'pay-1', 'capture.pay-1', { position: '7', at: '2026-03-01T10:00:09.000Z' });
    const [entry] = deriveEntries(facts, 'card');
    expect(entry).toMatchObject({
      kind: 'purchase',
      status: 'captured',
      payerId: 'p-1',
      counterpartyType: 'merchant',
      counterpartyId: 'm-1',
      app: 'instagram',
      country: 'DE',
      amount: '1250',
      netAmount: '1250',
      methodType: 'card',
      ledgerTransactionId: 'capture.pay-1',
      occurredAt: initiated.occurredAt,
      updatedAt: '2026-03-01T10:00:09.000Z',
    });
  });

  it('gives each refund its own entry, and a lost dispute a chargeback; net amounts add up to what stayed with the merchant', () => {
    const events = [
      paymentEvent('initiated', {
        requestId: '00000000-0000-4000-8000-00000000000a',
        ...parties,
        app: 'facebook',
        country: 'FR',
        amount: eur(1000),
        captureMethod: 'automatic',
      }),
      paymentEvent('authorized', { amount: eur(1000), provider: 'stripe', reference: 'pi_1' }),
      paymentEvent('captured', { ...parties, amount: eur(1000), authorizedAmount: eur(1000) }),
      paymentEvent('refund-requested', { refundId: 're-1', amount: eur(300), reason: 'requested_by_customer' }),
      paymentEvent('refunded', { ...parties, amount: eur(300), refundId: 're-1', refundedTotal: eur(300), full: false }),
      paymentEvent('refund-requested', { refundId: 're-2', amount: eur(100), reason: 'requested_by_customer' }),
      paymentEvent('refund-failed', { refundId: 're-2', reason: 'insufficient_funds' }),
      paymentEvent('dispute-opened', { disputeId: 'dp-1', amount: eur(700), reason: 'fraudulent' }),
      paymentEvent('dispute-lost', { ...parties, amount: eur(700), disputeId: 'dp-1' }),
    ];
    const entries = deriveEntries(fold(events));
    expect(entries.map((e) => [e.entryId, e.kind, e.status, e.amount, e.netAmount])).toEqual([
      ['payment:pay-1', 'purchase', 'disputed', '1000', '1000'],
      ['refund:pay-1:re-1', 'refund', 'succeeded', '300', '-300'],
      ['refund:pay-1:re-2', 'refund', 'failed', '100', '0'],
      ['chargeback:pay-1:dp-1', 'chargeback', 'charged_back', '700', '-700'],
    ]);
    expect(entries.reduce((sum, e) => sum + BigInt(e.netAmount), 0n)).toBe(0n);
    expect(entries.every((e) => e.app === 'facebook' && e.country === 'FR')).toBe(true);
  });

  it('follows the state machine: failures, cancellations, won disputes, full refunds', () => {
    const base = [
      paymentEvent('initiated', {
        requestId: '00000000-0000-4000-8000-00000000000a',
        ...parties,
        app: 'facebook',
        country: 'FR',
        amount: eur(500),
        captureMethod: 'automatic',
      }),
    ];
    expect(paymentStatus(fold([...base, paymentEvent('action-required', { provider: 'stripe', reference: 'pi_1' })]))).toBe('requires_action');
    expect(paymentStatus(fold([...base, paymentEvent('failed', { code: 'card_declined' })]))).toBe('failed');
    sequence = 1;
    const authorized = paymentEvent('authorized', { amount: eur(500), provider: 'stripe', reference: 'pi_1' });
    expect(paymentStatus(fold([...base, authorized, paymentEvent('canceled', { reason: 'requested' })]))).toBe('canceled');
    sequence = 2;
    const captured = paymentEvent('captured', { ...parties, amount: eur(500), authorizedAmount: eur(500) });
    const won = [
      paymentEvent('dispute-opened', { disputeId: 'd', amount: eur(500), reason: 'x' }),
      paymentEvent('dispute-won', { disputeId: 'd', amount: eur(500) }),
    ];
    expect(paymentStatus(fold([...base, authorized, captured, won[0]]))).toBe('disputed');
    expect(paymentStatus(fold([...base, authorized, captured, ...won]))).toBe('captured');
    sequence = 3;
    const full = paymentEvent('refunded', { ...parties, amount: eur(500), refundId: 'r', refundedTotal: eur(500), full: true });
    expect(paymentStatus(fold([...base, authorized, captured, full]))).toBe('refunded');
  });

  it('shows a bank debit as processing until it settles (captured) or fails late (failed)', () => {
    sequence = 10;
    const base = [
      paymentEvent('initiated', {
        requestId: '00000000-0000-4000-8000-00000000000b',
        ...parties,
        app: 'facebook',
        country: 'DE',
        amount: eur(700),
        captureMethod: 'automatic',
      }),
    ];
    const processing = paymentEvent('processing', { ...parties, amount: eur(700) });
    expect(paymentStatus(fold([...base, processing]))).toBe('processing');
    const settled = paymentEvent('captured', { ...parties, amount: eur(700), authorizedAmount: eur(700) });
    expect(paymentStatus(fold([...base, processing, settled]))).toBe('captured');
    expect(paymentStatus(fold([settled, ...base, processing]))).toBe('captured');
    const failedLate = paymentEvent('failed', { code: 'insufficient_funds' });
    expect(paymentStatus(fold([...base, processing, failedLate]))).toBe('failed');
    expect(paymentStatus(fold([failedLate, processing, ...base]))).toBe('failed');
  });

  it("says why a payment failed, as an enumerated code: a bank debit's late failure with the bank's answer, an unknown code as payment_failed", () => {
    sequence = 30;
    const base = [
      paymentEvent('initiated', {
        requestId: '00000000-0000-4000-8000-00000000000c',
        ...parties,
        app: 'facebook',
        country: 'DE',
        amount: eur(700),
        captureMethod: 'automatic',
      }),
      paymentEvent('processing', { ...parties, amount: eur(700) }),
    ];
    const entryOf = (events: EventEnvelope[]) => deriveEntries(fold(events)).find((entry) => entry.kind === 'purchase');
    expect(entryOf(base)).toMatchObject({ status: 'processing', failureCode: null });
    expect(entryOf([...base, paymentEvent('failed', { code: 'account_closed' })])).toMatchObject({ status: 'failed', failureCode: 'account_closed' });
    expect(entryOf([...base, paymentEvent('failed', { code: 'insufficient_funds' })])).toMatchObject({ status: 'failed', failureCode: 'insufficient_funds' });
    expect(entryOf([...base, paymentEvent('failed', { code: 'some_new_provider_code' })])).toMatchObject({ status: 'failed', failureCode: 'payment_failed' });
    // A settled debit the bank returned: the chargeback entry carries the bank's code; the payment's own entry none.
    const returned = [
      ...base,
      paymentEvent('captured', { ...parties, amount: eur(700), authorizedAmount: eur(700) }),
      paymentEvent('dispute-opened', { disputeId: 'return_pi_1', amount: eur(700), reason: 'debit_not_authorized' }),
      paymentEvent('dispute-lost', { ...parties, amount: eur(700), disputeId: 'return_pi_1' }),
    ];
    const entries = deriveEntries(fold(returned));
    expect(entries.find((entry) => entry.kind === 'purchase')).toMatchObject({ status: 'disputed', failureCode: null });
    expect(entries.find((entry) => entry.kind === 'chargeback')).toMatchObject({ status: 'charged_back', failureCode: 'debit_not_authorized' });
  });

  it('names wallet-balance payments so, whatever method the payer saved', () => {
    expect(methodTypeOf('wallet', 'card')).toBe('wallet_balance');
    expect(methodTypeOf('stripe', 'card')).toBe('card');
    expect(methodTypeOf('stripe', undefined)).toBe('unknown');
    expect(methodTypeOf(undefined, 'something-new')).toBe('unknown');
  });

  it('shows nothing before it knows who pays whom', () => {
    expect(deriveEntries(fold([paymentEvent('failed', { code: 'card_declined' })]))).toEqual([]);
  });
});

describe('order and duplicates do not matter', () => {
  const shuffledWithDuplicates = <T>(items: readonly T[]) =>
    fc
      .tuple(fc.array(fc.nat({ max: items.length - 1 }), { maxLength: items.length }), fc.context())
      .chain(([duplicates]) => fc.shuffledSubarray([...items, ...duplicates.map((i) => items[i])], { minLength: items.length + duplicates.length }));

  it("any order of a payment's events, each delivered any number of times, gives the same facts and entries", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...streams).chain((stream) => fc.tuple(fc.constant(stream), shuffledWithDuplicates(stream))),
        ([stream, delivered]) => {
          const expected = fold(stream);
          const actual = fold(delivered);
          expect(stableJson(actual)).toBe(stableJson(expected));
          expect(deriveEntries(actual, 'card')).toEqual(deriveEntries(expected, 'card'));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the same holds for wallets', () => {
    const walletStreams = new Map<string, EventEnvelope[]>();
    for (const event of workload.events.filter(isProjectedWalletEvent)) walletStreams.set(event.subject, [...(walletStreams.get(event.subject) ?? []), event]);
    const extra = (personId: string, seq: number, type: string, data: object): EventEnvelope => ({
      ...walletStreams.get(personId)![0],
      id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
      type,
      sequence: seq,
      occurredAt: `2026-02-01T00:00:${String(seq).padStart(2, '0')}.000Z`,
      data: { personId, actor: `person:${personId}`, ...data },
    });
    const first = [...walletStreams.keys()][0];
    const method = (walletStreams.get(first)!.find((e) => e.type === 'wallet.payment-method.added')!.data as { methodId: string }).methodId;
    walletStreams
      .get(first)!
      .push(
        extra(first, 10, 'wallet.apps.changed', { apps: ['whatsapp'], enabled: ['whatsapp'], disabled: ['facebook', 'instagram'] }),
        extra(first, 11, 'wallet.payment-method.removed', { methodId: method, wasPreferred: true }),
        extra(first, 12, 'wallet.contact.changed', { hasEmail: false, hasPhone: true }),
      );
    const foldWallet = (events: EventEnvelope[]): WalletRow => events.reduce<WalletRow | undefined>((row, e) => applyWalletEvent(row, e), undefined)!;
    expect(foldWallet(walletStreams.get(first)!)).toMatchObject({ apps: ['whatsapp'], preferredMethodId: null, hasEmail: false, hasPhone: true });
    fc.assert(
      fc.property(
        fc.constantFrom(...walletStreams.values()).chain((stream) => fc.tuple(fc.constant(stream), shuffledWithDuplicates(stream))),
        ([stream, delivered]) => expect(foldWallet(delivered)).toEqual(foldWallet(stream)),
      ),
      { numRuns: 200 },
    );
  });
  it("and for a bank account's methods row: added, marked unusable (told twice, the second later), removed when saved again", () => {
    const methodId = '6f1d3c1e-8a47-4f55-b2d4-7f8a9e0c1b23';
    const event = (sequence: number, type: string, second: number, data: object): EventEnvelope => ({
      id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
      type,
      version: 1,
      source: 'wallet',
      subject: 'person-9',
      sequence,
      occurredAt: `2026-02-01T00:00:${String(second).padStart(2, '0')}.000Z`,
      correlationId: '00000000-0000-4000-8000-000000000099',
      data: { personId: 'person-9', actor: 'system:payer-bank', methodId, ...data },
    });
    const stream = [
      event(1, 'wallet.payment-method.added', 1, { kind: 'bank_account', display: { last4: '1113', country: 'US' }, preferred: true }),
      event(2, 'wallet.payment-method.marked-unusable', 5, { reason: 'account_closed', paymentId: 'pay-1' }),
      event(3, 'wallet.payment-method.marked-unusable', 7, { reason: 'no_account', paymentId: 'pay-2' }),
      event(4, 'wallet.payment-method.removed', 9, { wasPreferred: true }),
    ];
    expect(stream.map(methodIdOf)).toEqual([methodId, methodId, methodId, methodId]);
    const foldMethod = (events: EventEnvelope[]): MethodRow => events.reduce<MethodRow | undefined>((row, e) => applyMethodEvent(row, e), undefined)!;
    expect(foldMethod(stream)).toMatchObject({
      kind: 'bank_account',
      last4: '1113',
      unusableReason: 'account_closed',
      unusableSince: '2026-02-01T00:00:05.000Z',
      removedAt: '2026-02-01T00:00:09.000Z',
    });
    fc.assert(
      fc.property(shuffledWithDuplicates(stream), (delivered) => expect(foldMethod(delivered)).toEqual(foldMethod(stream))),
      { numRuns: 200 },
    );
  });
});

describe('daily totals', () => {
  it("move an entry's contribution when it changes, and drop what cancels out", () => {
    const entry = { ...deriveEntries(fold(streams[0]))[0] };
    const later: HistoryEntry = { ...entry, status: 'refunded', netAmount: '0' };
    const change = new DailyTotalsChange();
    change.replace(undefined, entry);
    change.replace(entry, later);
    expect(change.toList()).toEqual([expect.objectContaining({ status: 'refunded', entries: 1, amount: BigInt(entry.amount), netAmount: 0n })]);
  });

  it('of the whole workload equal counting the entries', () => {
    const model = projectInMemory(workload.events);
    const totals = dailyTotalsOf(model.entries.values());
    const count = [...totals.values()].reduce((sum, value) => sum + Number(value.split('|')[0]), 0);
    expect(count).toBe(model.entries.size);
  });
});

describe('ledger postings', () => {
  it('are kept per posting with the payment they post', () => {
    const event = workload.events.find((e) => e.type === 'ledger.transaction.recorded')!;
    const rows = ledgerPostingRows(event.data as never);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ postingIndex: 0, direction: 'debit', paymentId: expect.stringMatching(/^pay-/) });
  });
});
