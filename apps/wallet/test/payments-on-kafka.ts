import { randomUUID } from 'node:crypto';
import type { EventDefinition, EventEnvelope, PaymentInitiatedData } from '@pay/contracts';
import { createEvent, PaymentCanceledV1, PaymentCapturedV1, PaymentFailedV1, PaymentInitiatedV1, Topics } from '@pay/contracts';
import { EventPublisher } from '@pay/messaging';
import { testDatabaseUrl, testKafka, uniqueName, waitFor } from '@pay/testing';
import { Client } from 'pg';
import type { WalletUnderTest } from './wallet-test-kit';

export interface ChargeAsk {
  personId: string;
  methodId: string;
  app?: string;
}

/**
 * What payment-orchestration publishes on payments.events.v1 about a card payment, delivered to
 * a test wallet: each call returns once the wallet's payment-events consumer has applied the
 * event (its inbox row, committed with the effect).
 */
export class PaymentsOnKafka {
  private readonly publisher = new EventPublisher(testKafka());
  private readonly sequences = new Map<string, number>();

  constructor(private readonly wallet: WalletUnderTest) {}

  /** A payment of the person with that method, initiated and awaiting its charge; returns its id. */
  async initiated(ask: ChargeAsk, paymentId = uniqueName('pay')): Promise<string> {
    const data: PaymentInitiatedData = {
      paymentId,
      requestId: randomUUID(),
      kind: 'purchase',
      payerId: ask.personId,
      counterparty: { type: 'merchant', id: 'merchant-release-test' },
      app: (ask.app ?? 'facebook') as PaymentInitiatedData['app'],
      country: 'US',
      amount: { amount: '1250', currency: 'USD' },
      captureMethod: 'automatic',
      paymentMethodId: ask.methodId,
    };
    await this.deliver(PaymentInitiatedV1, paymentId, data);
    return paymentId;
  }

  async captured(paymentId: string, payerId: string): Promise<void> {
    const amount = { amount: '1250', currency: 'USD' };
    await this.deliver(PaymentCapturedV1, paymentId, {
      paymentId,
      kind: 'purchase',
      payerId,
      counterparty: { type: 'merchant', id: 'merchant-release-test' },
      provider: 'stripe',
      reference: `pi_${paymentId.replace(/[^A-Za-z0-9]/g, '')}`,
      amount,
      authorizedAmount: amount,
    });
  }

  async failed(paymentId: string): Promise<void> {
    await this.deliver(PaymentFailedV1, paymentId, { paymentId, code: 'card_declined' });
  }

  async canceled(paymentId: string): Promise<void> {
    await this.deliver(PaymentCanceledV1, paymentId, { paymentId, reason: 'requested' });
  }

  disconnect(): Promise<void> {
    return this.publisher.disconnect();
  }

  private async deliver<T extends object>(definition: EventDefinition<T>, paymentId: string, data: T): Promise<EventEnvelope<T>> {
    const sequence = (this.sequences.get(paymentId) ?? 0) + 1;
    this.sequences.set(paymentId, sequence);
    const envelope = createEvent({ definition, source: 'payment-orchestration', subject: paymentId, sequence, data });
    await this.publisher.publish([{ topic: Topics.paymentEvents, envelope }]);
    await waitFor(
      () => this.applied(envelope.id),
      (seen) => seen,
      { what: `the wallet applying ${definition.type} of ${paymentId}` },
    );
    return envelope;
  }

  private async applied(eventId: string): Promise<boolean> {
    const client = new Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    try {
      const rows = await client.query(`SELECT 1 FROM "${this.wallet.schema}".inbox WHERE consumer = $1 AND event_id = $2`, [
        this.wallet.env.PAYMENTS_LEDGER_CONSUMER_GROUP,
        eventId,
      ]);
      return rows.rowCount === 1;
    } finally {
      await client.end();
    }
  }
}
