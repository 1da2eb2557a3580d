/**
 * Intake deciding several requests together (InitiatePayment.decideAll, as the Kafka door
 * decides the purchase requests of one inbox transaction), on real PostgreSQL: the outcomes and
 * what is written are those of the same requests decided one by one — a payer's requests in their
 * order (rate limit, cumulative step-up), a request id seen twice (replayed; reused for another
 * request: refused) — and requests of different payers cost two statements in all.
 */
import { randomUUID } from 'node:crypto';
import { parseStepUpThresholds, StepUpProofVerifier } from '@pay/auth';
import { money } from '@pay/contracts';
import { createLogger } from '@pay/observability';
import type { RolloutSource } from '@pay/rollout';
import { RolloutPolicy } from '@pay/rollout';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { NonProfitRegistry } from '../check-purchase/non-profit-registry';
import { parsePaymentLimits } from '../check-purchase/payment-limits';
import type { PurchaseRequest } from '../check-purchase/purchase-request';
import { paymentOrchestrationMigrations } from '../database/migrations';
import type { Sql } from '../database/sql';
import { inTransaction } from '../database/sql';
import { PaymentEventStore } from '../payments/store/payment-event-store';
import { PaymentSteps } from '../run-payment-steps/payment-steps';
import type { InitiateOutcome } from './initiate-payment';
import { InitiatePayment, roundsOf } from './initiate-payment';

let together: TestSchema;
let oneByOne: TestSchema;

const PAYERS = ['ana', 'bo', 'cy', 'di', 'ed', 'flo'];
const methodOf = new Map(PAYERS.map((payer) => [payer, randomUUID()]));

function intakeOn(schema: TestSchema, maxUnconfirmedPayments = 2): InitiatePayment {
  return new InitiatePayment(
    schema.dataSource,
    new PaymentEventStore(schema.dataSource),
    new PaymentSteps(schema.dataSource),
    {
      // The policy is all intake reads of its rollout source.
      rollout: { policy: new RolloutPolicy([{ country: 'US', apps: ['instagram'] }]) } as unknown as RolloutSource,
      limits: parsePaymentLimits('USD:50-100000'),
      nonProfits: new NonProfitRegistry([]),
      stepUpThresholds: parseStepUpThresholds('USD:50000'),
      // Never asked: no request here carries a proof.
      stepUpVerifier: new StepUpProofVerifier({ jwksUrl: 'http://127.0.0.1:9/unused', issuer: 'wallet' }),
      cumulativeStepUp: { maxUnconfirmedPayments, maxUnconfirmedAmounts: parseStepUpThresholds('USD:1000000') },
      paymentsPerPayerPerMinute: 3,
      purchaseRequestsPerAppPerMinute: 6_000,
      fundsConfirmationTimeoutMs: 60_000,
      fundsReservationTtlMs: 600_000,
    },
    createLogger('intake-test', 'silent'),
  );
}

async function seedWallets(schema: TestSchema): Promise<void> {
  // Every payer but "di" has a wallet with Pay on in instagram and a preferred card.
  for (const payer of PAYERS.filter((name) => name !== 'di')) {
    await schema.dataSource.query(
      "INSERT INTO wallet_holders (person_id, country, apps, preferred_method_id, sequence) VALUES ($1, 'US', '{instagram}', $2, 1)",
      [payer, methodOf.get(payer)],
    );
    await schema.dataSource.query("INSERT INTO wallet_methods (method_id, person_id, kind) VALUES ($1, $2, 'card')", [methodOf.get(payer), payer]);
  }
}

beforeAll(async () => {
  together = await createTestSchema('it_po_intake_together', paymentOrchestrationMigrations, 4);
  oneByOne = await createTestSchema('it_po_intake_one_by_one', paymentOrchestrationMigrations, 4);
  await seedWallets(together);
  await seedWallets(oneByOne);
});

afterAll(async () => {
  await together?.drop();
  await oneByOne?.drop();
});

/** The Kafka door (a sender authenticated): a payer over its rate limit is refused, not answered 429. */
const KAFKA = { door: 'kafka', sender: 'service:intake-test' } as const;

const purchase = (payerId: string, minor = 1_000n, requestId: string = randomUUID()): PurchaseRequest => ({
  requestId,
  kind: 'purchase',
  payerId,
  counterparty: { type: 'merchant', id: 'shop-1' },
  app: 'instagram',
  country: 'US',
  amount: money(minor, 'USD'),
});

/** What an outcome says, without the ids that differ from one run to the other. */
const gist = (outcome: InitiateOutcome): string =>
  outcome.outcome === 'refused' ? `refused ${outcome.refusal.code}` : `accepted${outcome.replayed ? ' (replayed)' : ''}`;

/** Everything intake wrote, without ids and times. */
async function written(schema: TestSchema): Promise<Record<string, unknown>> {
  const query = (text: string): Promise<unknown[]> => schema.dataSource.query(text);
  return {
    payments: await query('SELECT payer_id, amount::text, status, version FROM payments ORDER BY payer_id, amount'),
    events: await query('SELECT p.payer_id, e.sequence, e.type FROM payment_events e JOIN payments p USING (payment_id) ORDER BY p.payer_id, p.amount'),
    steps: await query('SELECT p.payer_id, s.step FROM payment_steps s JOIN payments p USING (payment_id) ORDER BY p.payer_id, p.amount'),
    allowances: await query('SELECT payer_id, currency, unconfirmed_payments, unconfirmed_amount::text FROM step_up_allowances ORDER BY payer_id'),
    keys: await query("SELECT count(*)::int AS n FROM idempotency_keys WHERE scope = 'payment-request'"),
    buckets: await query("SELECT bucket, floor(tokens)::int AS tokens FROM rate_limit_buckets WHERE bucket LIKE 'payments:payer:%' ORDER BY bucket"),
    published: await query(
      "SELECT payload->>'type' AS type, payload->'data'->>'payerId' AS payer, payload->'data'->>'code' AS code FROM outbox ORDER BY 2, 1, 3",
    ),
  };
}

describe('InitiatePayment.decideAll (an inbox transaction of purchase requests)', () => {
  it('decides them as one by one would, in one transaction', async () => {
    const shared = randomUUID();
    const requests = [
      purchase('ana', 1_000n),
      purchase('bo', 2_000n, shared),
      purchase('ana', 1_100n),
      purchase('di'), // no wallet
      purchase('ana', 1_200n), // a third without a proof: over the cumulative allowance (2)
      purchase('bo', 2_000n, shared), // the same request again: its first answer
      purchase('cy', 3_000n, shared), // the same id for another request
      purchase('ana', 1_300n), // a fourth in the minute: over the rate limit (3)
      purchase('ed', 4_000n),
    ];
    expect(roundsOf(requests.map((request) => ({ request })))).toEqual([[0, 1, 3, 8], [2, 5], [4, 6], [7]]);

    const intakeTogether = intakeOn(together);
    const prepared = await Promise.all(requests.map((request) => intakeTogether.prepare(request, KAFKA)));
    const decided = await inTransaction(together.dataSource, (sql) => intakeTogether.decideAll(sql, prepared));

    const intakeAlone = intakeOn(oneByOne);
    const alone: InitiateOutcome[] = [];
    for (const request of requests) alone.push(await intakeAlone.initiate(request, KAFKA));

    expect(decided.map(gist)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'refused WALLET_NOT_FOUND',
      'refused STEP_UP_REQUIRED',
      'accepted (replayed)',
      'refused IDEMPOTENCY_KEY_REUSED',
      'refused RATE_LIMITED',
      'accepted',
    ]);
    expect(alone.map(gist)).toEqual(decided.map(gist));
    // The replay answers with the payment the first one created.
    const [, first, , , , replayed] = decided;
    expect(replayed.outcome === 'accepted' && first.outcome === 'accepted' && replayed.body.paymentId).toBe(
      first.outcome === 'accepted' && first.body.paymentId,
    );
    expect(await written(together)).toEqual(await written(oneByOne));
    const payments: { n: number }[] = await together.dataSource.query('SELECT count(*)::int AS n FROM payments');
    expect(payments[0].n).toBe(4);
  });

  it("refuses a payer's fourth request in a minute (RATE_LIMITED on Kafka), as one by one would", async () => {
    const requests = [purchase('flo', 500n), purchase('flo', 600n), purchase('flo', 700n), purchase('flo', 800n)];
    const intake = intakeOn(together, 10);
    const prepared = await Promise.all(requests.map((request) => intake.prepare(request, KAFKA)));
    const decided = await inTransaction(together.dataSource, (sql) => intake.decideAll(sql, prepared));
    const intakeAlone = intakeOn(oneByOne, 10);
    const alone: InitiateOutcome[] = [];
    for (const request of requests) alone.push(await intakeAlone.initiate(request, KAFKA));
    expect(decided.map(gist)).toEqual(['accepted', 'accepted', 'accepted', 'refused RATE_LIMITED']);
    expect(alone.map(gist)).toEqual(decided.map(gist));
    expect(await written(together)).toEqual(await written(oneByOne));
  });

  it('decides requests of different payers in two statements: one claim, one creation', async () => {
    const intake = intakeOn(together);
    const payers = ['p1', 'p2', 'p3', 'p4', 'p5'];
    for (const payer of payers) {
      const method = randomUUID();
      await together.dataSource.query(
        "INSERT INTO wallet_holders (person_id, country, apps, preferred_method_id, sequence) VALUES ($1, 'US', '{instagram}', $2, 1)",
        [payer, method],
      );
      await together.dataSource.query("INSERT INTO wallet_methods (method_id, person_id, kind) VALUES ($1, $2, 'card')", [method, payer]);
    }
    const prepared = await Promise.all(payers.map((payer) => intake.prepare(purchase(payer), { door: 'http' })));
    const statements: string[] = [];
    const decided = await inTransaction(together.dataSource, (sql) => {
      const counting: Sql = {
        query: (text, parameters) => {
          statements.push(text.trim().split(/\s+/).slice(0, 4).join(' '));
          return sql.query(text, parameters);
        },
      };
      return intake.decideAll(counting, prepared);
    });
    expect(decided.map(gist)).toEqual(payers.map(() => 'accepted'));
    expect(statements).toHaveLength(2);
    const steps: { n: number }[] = await together.dataSource.query(
      "SELECT count(*)::int AS n FROM payment_steps s JOIN payments p USING (payment_id) WHERE p.payer_id LIKE 'p_' AND s.step = 'authorize'",
    );
    expect(steps[0].n).toBe(5);
  });
});
