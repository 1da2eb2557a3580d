/**
 * Kafka principals end to end: on the tiers' broker with SASL/SCRAM and the ACLs of
 * libs/contracts topic-access (TEST_KAFKA_SASL=1), the wallet and payment-orchestration sign in as
 * themselves, an app's backend publishes its purchase request as `app-<app>`, and the payment is
 * captured and posted; a funds command written by an app backend is refused by the broker itself.
 *
 * On a broker without SASL (the default) there is nothing to authenticate: the suite is skipped
 * and says so.
 */
import { randomUUID } from 'node:crypto';
import { Topics } from '@pay/contracts';
import { testKafka, testKafkaSecurity, uniqueName, waitFor } from '@pay/testing';
import type { PaymentsPlatform } from './e2e-kit';
import { purchaseOf, startPaymentsPlatform } from './e2e-kit';

const SASL = testKafkaSecurity() !== undefined;

/** What the broker answered to a send: its protocol error type when it refused, else 'accepted'. */
async function sendAs(principal: string, topic: string, value: string): Promise<string> {
  const producer = testKafka(uniqueName(`principals-${principal}`), principal).producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ key: randomUUID(), value }] });
    return 'accepted';
  } catch (error) {
    const { type, message } = error as { type?: string; message: string };
    // kafkajs reports the broker's TOPIC_AUTHORIZATION_FAILED (error code 29) on the topic's
    // metadata as a "Not authorized to access topics: [Topic authorization failed]" without a type.
    return type ?? (/\[Topic authorization failed\]/.test(message) ? 'TOPIC_AUTHORIZATION_FAILED' : message);
  } finally {
    await producer.disconnect();
  }
}

(SASL ? describe : describe.skip)(`Kafka principals: every service signs in as itself${SASL ? '' : ' (skipped: needs TEST_KAFKA_SASL=1)'}`, () => {
  let platform: PaymentsPlatform;

  beforeAll(async () => {
    platform = await startPaymentsPlatform();
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('runs the wallet and orchestration as their own principals, not as the super user', () => {
    expect(platform.wallet.service?.runtime.config).toMatchObject({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'wallet' });
    expect(platform.orchestration?.runtime.config).toMatchObject({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'payment-orchestration' });
  });

  it('captures and posts a purchase published as app-instagram', async () => {
    const ana = await platform.person();
    const requestId = await platform.publishPurchase(purchaseOf(ana, 1_500n));
    const paymentId = await platform.paymentOf(requestId);
    await platform.events.waitFor(paymentId, 'payments.payment.captured');
    // The wallet read payments.events.v1 in its own group and posted it.
    await waitFor(
      () => platform.walletQuery("SELECT 1 FROM payment_ledger_postings WHERE payment_id = $1 AND movement = 'capture'", [paymentId]),
      (rows) => rows.length === 1,
      { what: 'the capture posting' },
    );
  });

  it('moves a transfer from balance through funds commands: orchestration writes wallet.commands.v1, the wallet reads it', async () => {
    const [ivy, jon] = [await platform.person(), await platform.person()];
    await platform.topUp(ivy.id, 5_000n);
    const requestId = await platform.publishPurchase({ ...purchaseOf(ivy, 1_200n), kind: 'transfer', counterparty: { type: 'person', id: jon.id } });
    const paymentId = await platform.paymentOf(requestId);
    await platform.events.waitFor(paymentId, 'payments.payment.captured');
    expect(await platform.balance(`person.${jon.id}.wallet.USD`)).toBe(1_200n);
  });

  it('refuses a funds command written by an app backend, and by the wallet, at the broker', async () => {
    const command = JSON.stringify({
      id: randomUUID(),
      type: 'wallet.funds.reserve-requested',
      version: 1,
      source: 'payment-orchestration',
      subject: randomUUID(),
      sequence: 1,
      occurredAt: new Date().toISOString(),
      correlationId: randomUUID(),
      data: {},
    });
    expect(await sendAs('app-instagram', Topics.walletCommands, command)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await sendAs('wallet', Topics.walletCommands, command)).toBe('TOPIC_AUTHORIZATION_FAILED');
    // The refusals are the authorizer's: the same client writes what its principal may.
    expect(await sendAs('app-instagram', platform.purchaseTopic, '{}')).toBe('accepted');
  });
});
