/**
 * History against the ledger, across the two services' databases: after a mixed workload
 * (purchases, donations, transfers from card and from wallet balance, refunds in part and in
 * whole, failed refunds, won and lost disputes, declines, cancellations):
 * - every person's and business's ledger balance as history projects it from
 *   `ledger.transactions.v1` equals the posted balance of the same account in the ledger;
 * - every merchant's and non-profit's net as history projects it from the payment events, less
 *   the platform's fees, equals it too, and every person's wallet-balance change;
 * - every settled entry links to the ledger transaction that posted it.
 *
 * The money is posted by the wallet's own rules: `planCapture`, `planRefund`, `planDisputeLoss`
 * (apps/wallet/src/post-payments-to-ledger, docs/adr/0007) and the person-to-person reservation
 * of its funds commands (`p2p.<payment>`: reserve at authorisation, post at capture, void at
 * cancellation), recorded through the real ledger (`PostgresLedger`, its own schema). The
 * ledger's outbox is then published to the history service's ledger topic, as the relay would.
 *
 * It lives under tools/ because it spans two services: history-projection's code may not import
 * the wallet's ledger store or rules (Nx boundaries); a cross-service test may.
 */
import 'reflect-metadata';
import type { EventEnvelope, PaymentCapturedData, PaymentDisputeLostData, PaymentInitiatedData, PaymentRefundedData } from '@pay/contracts';
import { paymentLinkMetadata } from '@pay/contracts';
import type { LedgerCommand, OpenAccountInput } from '@pay/ledger-domain';
import { LEDGER_MIGRATIONS, PostgresLedger } from '@pay/ledger-store';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, waitFor } from '@pay/testing';
import { personWallet, planCapture, planDisputeLoss, planRefund, transferReservationId } from '@pay/wallet/tools';
import type { PostedCapture, PostingPlan, PostingPolicy } from '@pay/wallet/tools';
import { readModelTables } from '@pay/history-projection/tools';
import type { HistoryUnderTest } from '@pay/history-projection/testing';
import { deleteHistoryTopics, generateWorkload, publish, startHistory, waitUntilApplied } from '@pay/history-projection/testing';

interface Summary {
  currencies: Array<{
    currency: string;
    received: { net: string };
    paid?: { net: string; netFromWalletBalance: string };
    walletBalanceChange?: string;
    ledgerBalance: string;
  }>;
}

const workload = generateWorkload({ seed: 2026, persons: 30, merchants: 5, nonProfits: 2, payments: 400, ledger: false });
/** 1.5 % + 0.25 on purchases and donations, 15.00 per lost dispute. */
const policy: PostingPolicy = { fee: { basisPoints: 150, fixedMinor: 25n }, disputeFeeMinor: 1_500n };

describe('history and the ledger agree', () => {
  let ledgerDb: TestSchema;
  let ledger: PostgresLedger;
  let history: HistoryUnderTest;
  /** Accounts of persons and businesses, by id: who owns them. */
  const accounts = new Map<string, OpenAccountInput>();
  const opened = new Set<string>();
  const captures = new Map<string, PostedCapture>();
  const takenBack = new Map<string, bigint>();
  /** Fees the wallet kept, per business account: what separates history's net from the payable. */
  const fees = new Map<string, bigint>();

  async function open(account: OpenAccountInput): Promise<void> {
    if (opened.has(account.id)) return;
    await ledger.openAccount(account);
    opened.add(account.id);
    if (account.ownerType !== 'system') accounts.set(account.id, account);
  }

  async function apply(plan: PostingPlan): Promise<void> {
    for (const account of plan.accounts) await open(account);
    await ledger.record(plan.command);
  }

  /** What the wallet posts for one payment's events, in their order. */
  async function postPayment(events: readonly EventEnvelope[]): Promise<void> {
    const initiated = events.find((e) => e.type === 'payments.payment.initiated')!.data as PaymentInitiatedData;
    const { currency } = initiated.amount;
    const paymentId = initiated.paymentId;
    const reservationId = transferReservationId(paymentId);
    let reserved = false;
    const record = async (command: LedgerCommand): Promise<void> => {
      await ledger.record(command);
    };
    for (const event of events) {
      const type = event.type.slice('payments.payment.'.length);
      const data = event.data as { provider?: string; amount?: { amount: string } };
      if (type === 'authorized' && data.provider === 'wallet') {
        // The funds commands: hold the sender's balance for the recipient.
        const sender = personWallet(initiated.payerId, currency);
        const recipient = personWallet(initiated.counterparty.id, currency);
        await open(sender);
        await open(recipient);
        await record({
          type: 'reserve',
          transactionId: reservationId,
          debitAccountId: sender.id,
          creditAccountId: recipient.id,
          amount: BigInt(data.amount!.amount),
          currency,
          expiresAt: new Date(Date.now() + 86_400_000),
          metadata: { ...paymentLinkMetadata({ paymentId }), flow: 'p2p' },
        });
        reserved = true;
      } else if (type === 'canceled' && reserved) {
        await record({ type: 'void_reservation', reservationId, metadata: paymentLinkMetadata({ paymentId }) });
      } else if (type === 'captured') {
        const captured = event.data as PaymentCapturedData;
        if (captured.provider === 'wallet') {
          await record({ type: 'post_reservation', reservationId, amount: BigInt(captured.amount.amount), metadata: paymentLinkMetadata({ paymentId }) });
          continue;
        }
        const plan = planCapture(captured, policy)!;
        await apply(plan);
        const posted = plan.record!;
        captures.set(paymentId, { transactionId: plan.transactionId, ...posted });
        fees.set(posted.counterpartyAccountId, (fees.get(posted.counterpartyAccountId) ?? 0n) + posted.fee);
      } else if (type === 'refunded') {
        const refunded = event.data as PaymentRefundedData;
        await apply(planRefund(refunded, captures.get(paymentId), takenBack.get(paymentId) ?? 0n));
        takenBack.set(paymentId, (takenBack.get(paymentId) ?? 0n) + BigInt(refunded.amount.amount));
      } else if (type === 'dispute-lost') {
        const lost = event.data as PaymentDisputeLostData;
        const plan = planDisputeLoss(lost, captures.get(paymentId), takenBack.get(paymentId) ?? 0n, policy);
        await apply(plan);
        takenBack.set(paymentId, (takenBack.get(paymentId) ?? 0n) + BigInt(lost.amount.amount));
        fees.set(plan.record!.counterpartyAccountId, (fees.get(plan.record!.counterpartyAccountId) ?? 0n) + plan.record!.fee);
      }
    }
  }

  beforeAll(async () => {
    [ledgerDb, history] = await Promise.all([createTestSchema('it_hist_ledger', LEDGER_MIGRATIONS), startHistory()]);
    ledger = new PostgresLedger(ledgerDb.dataSource);

    const byPayment = new Map<string, EventEnvelope[]>();
    for (const event of workload.events) {
      if (!event.type.startsWith('payments.payment.')) continue;
      byPayment.set(event.subject, [...(byPayment.get(event.subject) ?? []), event]);
    }
    // Payments in the order the workload made them (wallet balances were planned in that order).
    for (const paymentId of [...byPayment.keys()].sort()) await postPayment(byPayment.get(paymentId)!.sort((a, b) => a.sequence - b.sequence));

    // The ledger's events, as its relay would publish them.
    const outbox = await ledgerDb.dataSource.query<Array<{ payload: EventEnvelope }>>('SELECT payload FROM outbox ORDER BY tx_id, position');
    const ledgerEvents = outbox.map((row) => row.payload);
    expect(ledgerEvents.length).toBeGreaterThan(100);
    await publish(history.topics, [...workload.events, ...ledgerEvents]);
    await waitUntilApplied(history, workload.events.length + ledgerEvents.length);
  }, 180_000);

  afterAll(async () => {
    await ledger?.close();
    await ledgerDb?.drop();
    if (history) {
      await history.stop();
      await deleteHistoryTopics(history.topics);
    }
  });

  it("projects every person's and business's ledger balance as the ledger holds it", async () => {
    const analyst = await history.as('a-1', 'analyst');
    const kinds = new Set<string>();
    for (const [accountId, account] of accounts) {
      const path = account.ownerType === 'person' ? 'persons' : account.ownerType === 'merchant' ? 'merchants' : 'non-profits';
      // Analysts know no person by id: a person's summary is read with the person's own token.
      const caller = account.ownerType === 'person' ? await history.as(account.ownerId, 'person') : analyst;
      const summary = await caller.get<Summary>(`/v1/history/${path}/${account.ownerId}/summary`);
      const projected = summary.body.currencies.find((c) => c.currency === account.currency)?.ledgerBalance ?? '0';
      const posted = (await ledger.balance(accountId)).posted.toString();
      expect({ accountId, projected }).toEqual({ accountId, projected: posted });
      kinds.add(account.ownerType);
    }
    expect([...kinds].sort()).toEqual(['merchant', 'non_profit', 'person']);
    expect(accounts.size).toBeGreaterThan(30);
  });

  it("gives every merchant and non-profit, from the payment events, the ledger's balance less the fees the wallet kept", async () => {
    const analyst = await history.as('a-1', 'analyst');
    let compared = 0;
    for (const [accountId, account] of accounts) {
      if (account.ownerType === 'person') continue;
      const path = account.ownerType === 'merchant' ? 'merchants' : 'non-profits';
      const summary = await analyst.get<Summary>(`/v1/history/${path}/${account.ownerId}/summary`);
      const net = BigInt(summary.body.currencies.find((c) => c.currency === account.currency)?.received.net ?? '0');
      const posted = (await ledger.balance(accountId)).posted;
      expect({ accountId, afterFees: (net - (fees.get(accountId) ?? 0n)).toString() }).toEqual({ accountId, afterFees: posted.toString() });
      compared += 1;
    }
    expect(compared).toBeGreaterThanOrEqual(workload.merchants.length);
  });

  it('gives every person, from the payment events, the change of their wallet balance the ledger holds', async () => {
    let withBalance = 0;
    for (const person of workload.persons) {
      const summary = await (await history.as(person, 'person')).get<Summary>(`/v1/history/persons/${person}/summary`);
      for (const currency of ['EUR', 'USD', 'GBP']) {
        const accountId = personWallet(person, currency).id;
        const posted = opened.has(accountId) ? (await ledger.balance(accountId)).posted : 0n;
        const projected = summary.body.currencies.find((c) => c.currency === currency)?.walletBalanceChange ?? '0';
        expect({ accountId, projected }).toEqual({ accountId, projected: posted.toString() });
        if (posted !== 0n) withBalance += 1;
      }
    }
    // Money did move through wallets, and was also paid from them.
    expect(withBalance).toBeGreaterThan(5);
    const [{ n }] = await history.service.runtime.dataSource.query<Array<{ n: string }>>(
      `SELECT count(*)::text AS n FROM ${readModelTables(1).entries} WHERE provider = 'wallet' AND net_amount > 0`,
    );
    expect(Number(n)).toBeGreaterThan(0);
  });

  it('links every settled entry to the ledger transaction that posted it, once', async () => {
    const t = readModelTables(1);
    const unposted = await history.service.runtime.dataSource.query<Array<{ entry_id: string }>>(
      `SELECT entry_id FROM ${t.entries} WHERE net_amount <> 0 AND ledger_transaction_id IS NULL`,
    );
    expect(unposted).toEqual([]);
    const posted = await history.service.runtime.dataSource.query<Array<{ n: string }>>(
      `SELECT count(*)::text AS n FROM ${t.entries} e WHERE e.net_amount <> 0 AND e.ledger_transaction_id IN (SELECT transaction_id FROM ${t.ledgerPostings} GROUP BY transaction_id)`,
    );
    const settled = await history.service.runtime.dataSource.query<Array<{ n: string }>>(`SELECT count(*)::text AS n FROM ${t.entries} WHERE net_amount <> 0`);
    expect(posted[0].n).toBe(settled[0].n);
    // And the ledger itself is whole: every currency sums to zero, the hash chain verifies.
    expect(await ledger.verify()).toMatchObject({ ok: true });
    await waitFor(
      async () =>
        (await history.anonymous().get<{ details: { projection: { eventsBehind: number } } }>('/health/ready')).body.details?.projection?.eventsBehind,
      (behind) => behind === 0,
      { timeoutMs: 90_000 },
    );
  });
});
