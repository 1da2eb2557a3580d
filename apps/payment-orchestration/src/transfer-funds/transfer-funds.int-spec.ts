/**
 * The wallet conversation of a transfer from balance, on real PostgreSQL, without Kafka: the
 * answers are handed to the handlers as the inbox would, in a transaction. The deadline voids a
 * reservation the wallet did not confirm (Canceled and VoidReservedFunds commit together), a late
 * answer then moves nothing, and a confirmed one posts exactly once. Every command carries
 * orchestration's attestation of exactly itself, which the wallet's verifier takes.
 */
import { randomUUID } from 'node:crypto';
import { AccessTokenVerifier, FUNDS_COMMAND_ATTESTATION_HEADER, FundsCommandAttester, parseKeyGrants } from '@pay/auth';
import { createTestIssuer, testKeyPair } from '@pay/auth/testing';
import type { EventDefinition, EventEnvelope } from '@pay/contracts';
import { createEvent, FundsPostedV1, FundsRejectedV1, FundsReservedV1, money, ReserveFundsV1, Topics } from '@pay/contracts';
import { createLogger } from '@pay/observability';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { paymentOrchestrationMigrations } from '../database/migrations';
import { inTransaction } from '../database/sql';
import { PaymentEventStore } from '../payments/store/payment-event-store';
import { PaymentSteps } from '../run-payment-steps/payment-steps';
import { fundsCommands } from './funds-commands';
import { TransferFunds } from './transfer-funds';

let schema: TestSchema;
let store: PaymentEventStore;
let steps: PaymentSteps;
let transfers: TransferFunds;
let attester: FundsCommandAttester;
/** The wallet's verifier, with orchestration's key registered for funds commands. */
let walletVerifier: AccessTokenVerifier;

beforeAll(async () => {
  schema = await createTestSchema('it_po_transfers', paymentOrchestrationMigrations, 4);
  store = new PaymentEventStore(schema.dataSource);
  steps = new PaymentSteps(schema.dataSource);
  const idp = await createTestIssuer();
  const key = await testKeyPair('orchestration-transfers-it');
  attester = await FundsCommandAttester.create(key.privateJwk, { issuer: idp.issuer, audience: idp.audience });
  walletVerifier = new AccessTokenVerifier({
    jwks: { keys: [key.publicJwk] },
    keyGrants: parseKeyGrants(
      JSON.stringify({
        'orchestration-transfers-it': { subjects: ['payment-orchestration'], roles: ['service'], scopes: ['funds:command', 'instruments:read'] },
      }),
    ),
    issuer: idp.issuer,
    audience: idp.audience,
  });
  transfers = new TransferFunds(schema.dataSource, store, steps, createLogger('transfers-test', 'silent'), attester);
});

afterAll(async () => {
  await schema?.drop();
});

/** A transfer as intake leaves it: initiated, ReserveFunds sent, its deadline scheduled. */
async function initiatedTransfer(amount = 2_500n): Promise<{ paymentId: string; reserveCommandId: string }> {
  const paymentId = randomUUID();
  let reserveCommandId = '';
  await inTransaction(schema.dataSource, async (sql) => {
    await store.appendWith(sql, paymentId, 0, [
      {
        type: 'PaymentInitiated',
        paymentId,
        requestId: randomUUID(),
        kind: 'transfer',
        payerId: 'person-a',
        counterparty: { type: 'person', id: 'person-b' },
        app: 'whatsapp',
        country: 'US',
        amount,
        currency: 'USD',
        captureMethod: 'automatic',
      },
    ]);
    const sent = await fundsCommands.send(sql, attester, paymentId, 'reserve', ReserveFundsV1, {
      senderId: 'person-a',
      recipientId: 'person-b',
      amount: money(amount, 'USD'),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    reserveCommandId = (sent.data as { commandId: string }).commandId;
    await steps.schedule(sql, paymentId, 'confirm-funds', new Date(Date.now() + 60_000));
  });
  return { paymentId, reserveCommandId };
}

function answer<T extends object>(definition: EventDefinition<T>, paymentId: string, data: object, sequence = 1): EventEnvelope {
  return createEvent({ definition, source: 'wallet', subject: paymentId, sequence, data: { paymentId, ...data } as unknown as T });
}

async function deliver(envelope: EventEnvelope): Promise<void> {
  const handler = transfers.answerHandlers()[envelope.type];
  await inTransaction(schema.dataSource, (sql) => handler(sql, envelope));
}

async function commandRowsOf(paymentId: string): Promise<{ payload: { type: string }; headers: Record<string, string> }[]> {
  return schema.dataSource.query('SELECT payload, headers FROM outbox WHERE topic = $1 AND message_key = $2 ORDER BY position', [
    Topics.walletCommands,
    paymentId,
  ]);
}

async function commandsOf(paymentId: string): Promise<string[]> {
  return (await commandRowsOf(paymentId)).map((row) => row.payload.type);
}

const statusOf = async (paymentId: string): Promise<string | undefined> => (await store.load(paymentId))?.status;

describe('a transfer from wallet balance', () => {
  it('voids a reservation the wallet did not confirm in time; a late "reserved" then moves nothing', async () => {
    const { paymentId, reserveCommandId } = await initiatedTransfer();
    expect(await transfers.onConfirmationDeadline({ paymentId, step: 'confirm-funds', attempts: 1 })).toEqual({ outcome: 'done' });
    expect(await statusOf(paymentId)).toBe('canceled');
    expect(await commandsOf(paymentId)).toEqual(['wallet.funds.reserve-requested', 'wallet.funds.void-requested']);
    await deliver(
      answer(FundsReservedV1, paymentId, { commandId: reserveCommandId, amount: money(2_500n, 'USD'), expiresAt: new Date(Date.now() + 60_000).toISOString() }),
    );
    expect(await statusOf(paymentId)).toBe('canceled');
    expect(await commandsOf(paymentId)).toEqual(['wallet.funds.reserve-requested', 'wallet.funds.void-requested']);
    // The deadline coming again (a retried step) changes nothing either.
    await transfers.onConfirmationDeadline({ paymentId, step: 'confirm-funds', attempts: 2 });
    expect((await store.load(paymentId))?.version).toBe(2);
  });

  it('posts a confirmed reservation exactly once, then captures', async () => {
    const { paymentId, reserveCommandId } = await initiatedTransfer();
    const reserved = answer(FundsReservedV1, paymentId, {
      commandId: reserveCommandId,
      amount: money(2_500n, 'USD'),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await deliver(reserved);
    await deliver(reserved);
    expect(await statusOf(paymentId)).toBe('authorized');
    expect(await commandsOf(paymentId)).toEqual(['wallet.funds.reserve-requested', 'wallet.funds.post-requested']);
    expect((await steps.pending()).find((step) => step.paymentId === paymentId)).toBeUndefined();
    const [{ command_id: postCommandId }]: { command_id: string }[] = await schema.dataSource.query(
      "SELECT command_id FROM funds_commands WHERE payment_id = $1 AND type = 'post'",
      [paymentId],
    );
    await deliver(answer(FundsPostedV1, paymentId, { commandId: postCommandId, amount: money(2_500n, 'USD') }, 2));
    await deliver(answer(FundsPostedV1, paymentId, { commandId: postCommandId, amount: money(2_500n, 'USD') }, 2));
    const payment = await store.load(paymentId);
    expect(payment?.state).toMatchObject({ status: 'captured', capturedAmount: 2_500n, provider: 'wallet', reference: reserveCommandId });
    // The deadline finds nothing to do.
    await transfers.onConfirmationDeadline({ paymentId, step: 'confirm-funds', attempts: 1 });
    expect(payment?.version).toBe((await store.load(paymentId))?.version);
  });

  it("fails with the wallet's code when the reservation is refused, and ignores answers to commands it did not send", async () => {
    const { paymentId, reserveCommandId } = await initiatedTransfer();
    await deliver(answer(FundsRejectedV1, paymentId, { commandId: randomUUID(), code: 'INSUFFICIENT_FUNDS' }));
    expect(await statusOf(paymentId)).toBe('initiated');
    await deliver(answer(FundsRejectedV1, paymentId, { commandId: reserveCommandId, code: 'INSUFFICIENT_FUNDS' }));
    expect((await store.load(paymentId))?.state).toMatchObject({ status: 'failed', failure: { code: 'insufficient_funds' } });
  });

  it('attests every funds command it writes: the wallet verifies each against exactly the payload the relay will publish', async () => {
    const { paymentId, reserveCommandId } = await initiatedTransfer();
    await deliver(
      answer(FundsReservedV1, paymentId, { commandId: reserveCommandId, amount: money(2_500n, 'USD'), expiresAt: new Date(Date.now() + 60_000).toISOString() }),
    );
    const rows = await commandRowsOf(paymentId);
    expect(rows.map((row) => row.payload.type)).toEqual(['wallet.funds.reserve-requested', 'wallet.funds.post-requested']);
    for (const row of rows) {
      // The payload as jsonb gives it back (members reordered): what the relay sends.
      await expect(walletVerifier.verifyFundsCommand(row.headers[FUNDS_COMMAND_ATTESTATION_HEADER], row.payload)).resolves.toBeUndefined();
    }
    // One command's attestation does not vouch for another.
    await expect(walletVerifier.verifyFundsCommand(rows[0].headers[FUNDS_COMMAND_ATTESTATION_HEADER], rows[1].payload)).rejects.toThrow(/another command/);
  });
});
