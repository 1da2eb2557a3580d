import { randomUUID } from 'node:crypto';
import type { EventDefinition, EventEnvelope } from '@pay/contracts';
import {
  createEvent,
  LedgerTransactionRecorded,
  paymentLinkMetadata,
  PaymentAuthorizedV1,
  PaymentCapturedV1,
  PaymentInitiatedV1,
  PaymentRefundedV1,
  PaymentRefundRequestedV1,
  WalletOpenedV1,
} from '@pay/contracts';

/** Events of one card purchase as payment-orchestration and the wallet publish them, for the timeline tests. */
export class PaymentStory {
  private sequence = 0;
  private position = 100;
  /** Each event of the story happens 1 ms after the one before: the timeline's order is the story's, never a tie. */
  private clock = Date.now();

  private next(): Date {
    this.clock = Math.max(this.clock + 1, Date.now());
    return new Date(this.clock);
  }
  readonly paymentId = `pay_${randomUUID().slice(0, 12)}`;

  constructor(
    readonly payerId: string,
    readonly amount = '2500',
    readonly currency = 'USD',
  ) {}

  private event<T extends object>(definition: EventDefinition<T>, data: T, subject = this.paymentId): EventEnvelope<T> {
    this.sequence += 1;
    return createEvent({ definition, source: 'payment-orchestration', subject, sequence: this.sequence, data, occurredAt: this.next() });
  }

  private money(amount = this.amount): { amount: string; currency: string } {
    return { amount, currency: this.currency };
  }

  private movement() {
    return {
      paymentId: this.paymentId,
      kind: 'purchase' as const,
      payerId: this.payerId,
      counterparty: { type: 'merchant' as const, id: 'm-shop' },
      provider: 'stripe',
      reference: 'pi_123',
    };
  }

  ledger(kind: 'transfer' | 'reversal', amount: string, refundId?: string): EventEnvelope {
    this.position += 1;
    const occurredAt = this.next();
    const data = {
      transactionId: `${this.paymentId}:${refundId ?? 'capture'}`,
      kind,
      position: String(this.position),
      recordedAt: occurredAt.toISOString(),
      postings: [
        {
          accountId: 'psp-clearing:USD',
          direction: kind === 'transfer' ? ('debit' as const) : ('credit' as const),
          amount,
          currency: this.currency,
          layer: 'posted' as const,
        },
        {
          accountId: 'merchant:m-shop:USD',
          direction: kind === 'transfer' ? ('credit' as const) : ('debit' as const),
          amount,
          currency: this.currency,
          layer: 'posted' as const,
        },
      ],
      metadata: paymentLinkMetadata({ paymentId: this.paymentId, ...(refundId ? { refundId } : {}) }),
      hash: 'a'.repeat(64),
      ...(kind === 'reversal' ? { reverses: `${this.paymentId}:capture` } : {}),
    };
    return createEvent({ definition: LedgerTransactionRecorded, source: 'wallet', subject: this.paymentId, sequence: this.position, data, occurredAt });
  }

  /** Intake, PSP authorisation and capture, and the ledger's posting. */
  purchase(): EventEnvelope[] {
    return [
      this.event(PaymentInitiatedV1, {
        paymentId: this.paymentId,
        requestId: randomUUID(),
        kind: 'purchase',
        payerId: this.payerId,
        counterparty: { type: 'merchant', id: 'm-shop' },
        app: 'messenger',
        country: 'US',
        amount: this.money(),
        captureMethod: 'automatic',
      } as never),
      this.event(PaymentAuthorizedV1, { paymentId: this.paymentId, amount: this.money(), provider: 'stripe', reference: 'pi_123' }),
      this.event(PaymentCapturedV1, { ...this.movement(), amount: this.money(), authorizedAmount: this.money() }),
      this.ledger('transfer', this.amount),
    ];
  }

  /** A refund asked, settled and reversed in the ledger. */
  refund(amount: string): EventEnvelope[] {
    const refundId = `re_${randomUUID().slice(0, 8)}`;
    return [
      this.event(PaymentRefundRequestedV1, { paymentId: this.paymentId, refundId, amount: this.money(amount), reason: 'requested_by_customer' } as never),
      this.event(PaymentRefundedV1, {
        ...this.movement(),
        refundId,
        amount: this.money(amount),
        refundedTotal: this.money(amount),
        full: amount === this.amount,
      }),
      this.ledger('reversal', amount, refundId),
    ];
  }

  static walletOpened(personId: string, country: string): EventEnvelope {
    return createEvent({
      definition: WalletOpenedV1,
      source: 'wallet',
      subject: personId,
      sequence: 1,
      data: { personId, actor: `person:${personId}`, country, apps: [] },
    });
  }
}
