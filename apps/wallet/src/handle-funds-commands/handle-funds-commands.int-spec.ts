/**
 * wallet.commands.v1 -> ledger holds -> answers on wallet.events.v1, through the whole wallet
 * service (real PostgreSQL and Kafka): person-to-person payments from wallet balance. Commands
 * carry payment-orchestration's attestation as orchestration sends them; one without it, attested
 * by another key, or carrying another command's attestation is dead-lettered and moves nothing.
 */
import { randomUUID } from 'node:crypto';
import { FUNDS_COMMAND_ATTESTATION_HEADER, FundsCommandAttester } from '@pay/auth';
import { testKeyPair } from '@pay/auth/testing';
import type { EventDefinition, EventEnvelope, PostReservedFundsData, ReserveFundsData, ReturnFundsData, VoidReservedFundsData } from '@pay/contracts';
import { createEvent, PostReservedFundsV1, ReserveFundsV1, ReturnFundsV1, Topics, VoidReservedFundsV1 } from '@pay/contracts';
import { resolutionTransactionId } from '@pay/ledger-domain';
import { uniqueName, waitFor } from '@pay/testing';
import { personWallet } from '../money/chart-of-accounts';
import { transferReservationId } from '../money/ledger-ids';
import type { Balance, MoneyWallet } from '../money/test/money-test-kit';
import { applied, balanceOf, startMoneyWallet, TestPublisher, topUp, watchDeadLetters, watchTopic } from '../money/test/money-test-kit';

const TOPIC = Topics.walletCommands;

interface Answer {
  id: string;
  type: string;
  subject: string;
  sequence: number;
  causationId: string;
  data: Record<string, unknown>;
}

/** Orchestration's side of one person-to-person payment. */
class Transfer {
  readonly paymentId = uniqueName('p2p');
  private sequence = 0;
  constructor(
    readonly senderId: string,
    readonly recipientId: string,
  ) {}

  private command<T extends object>(definition: EventDefinition<T>, data: T): EventEnvelope<T> {
    this.sequence += 1;
    return createEvent({ definition, source: 'payment-orchestration', subject: this.paymentId, sequence: this.sequence, data });
  }

  reserve(amount: string, expiresAt = new Date(Date.now() + 300_000), commandId: string = randomUUID()): EventEnvelope<ReserveFundsData> {
    return this.command(ReserveFundsV1, {
      commandId,
      paymentId: this.paymentId,
      senderId: this.senderId,
      recipientId: this.recipientId,
      amount: { amount, currency: 'EUR' },
      expiresAt: expiresAt.toISOString(),
    });
  }

  post(amount?: string, commandId: string = randomUUID()): EventEnvelope<PostReservedFundsData> {
    const data = { commandId, paymentId: this.paymentId } as PostReservedFundsData;
    if (amount !== undefined) data.amount = { amount, currency: 'EUR' };
    return this.command(PostReservedFundsV1, data);
  }

  void(reason: VoidReservedFundsData['reason'] = 'canceled'): EventEnvelope<VoidReservedFundsData> {
    return this.command(VoidReservedFundsV1, { commandId: randomUUID(), paymentId: this.paymentId, reason });
  }

  /** A refund of (part of) the posted transfer: the recipient gives `amount` back. */
  giveBack(refundId: string, amount: string, commandId: string = randomUUID()): EventEnvelope<ReturnFundsData> {
    return this.command(ReturnFundsV1, {
      commandId,
      paymentId: this.paymentId,
      refundId,
      senderId: this.senderId,
      recipientId: this.recipientId,
      amount: { amount, currency: 'EUR' },
    });
  }

  /** The same command sent again under a new envelope id (a retry by orchestration). */
  again<T extends object>(command: EventEnvelope<T>): EventEnvelope<T> {
    const definition = [ReserveFundsV1, PostReservedFundsV1, VoidReservedFundsV1, ReturnFundsV1].find(
      (d) => d.type === command.type,
    ) as unknown as EventDefinition<T>;
    return this.command(definition, command.data);
  }
}

describe('handle funds commands', () => {
  let wallet: MoneyWallet;
  const publisher = new TestPublisher();

  beforeAll(async () => {
    wallet = await startMoneyWallet('funds_commands');
  });

  afterAll(async () => {
    await publisher.disconnect();
    await wallet?.stop();
  });

  // As payment-orchestration sends them: each with its attestation.
  const send = async (...commands: EventEnvelope[]): Promise<void> =>
    publisher.publishWithHeaders(
      TOPIC,
      ...(await Promise.all(commands.map(async (envelope) => ({ envelope, headers: await wallet.fundsCommandHeaders(envelope) })))),
    );

  /** The wallet's answer to a command: the outbox row it caused, in the same transaction as its inbox row. */
  const answerTo = async (command: EventEnvelope): Promise<Answer> => {
    const rows = await waitFor(
      () =>
        wallet.query<{ payload: Answer }>(`SELECT payload FROM outbox WHERE topic = $1 AND payload->>'causationId' = $2`, [Topics.walletEvents, command.id]),
      (found) => found.length > 0,
      { what: `answer to ${command.type} ${command.id}` },
    );
    expect(rows).toHaveLength(1);
    return rows[0].payload;
  };

  const balance = async (personId: string): Promise<Balance> => {
    const found = await balanceOf(wallet, personWallet(personId, 'EUR').id);
    return found ?? { posted: 'none', available: 'none', pendingOutgoing: 'none', pendingIncoming: 'none' };
  };
  const person = async (prefix: string, amount = 0n): Promise<string> => {
    const id = uniqueName(prefix);
    if (amount > 0n) await topUp(wallet, personWallet(id, 'EUR'), amount);
    return id;
  };
  const entriesOf = async (paymentId: string): Promise<string[]> =>
    (await wallet.query<{ kind: string }>(`SELECT kind FROM journal_entries WHERE metadata->>'paymentId' = $1 ORDER BY position`, [paymentId])).map(
      (e) => e.kind,
    );

  it('returns a posted transfer in parts (refunds): each once, however often sent; a part the recipient spent, or more than was posted, is refused and moves nothing', async () => {
    const alice = await person('u-alice', 10_000n);
    const bob = await person('u-bob');
    const transfer = new Transfer(alice, bob);
    const reserve = transfer.reserve('4000');
    await send(reserve);
    await answerTo(reserve);
    const post = transfer.post();
    await send(post);
    expect((await answerTo(post)).type).toBe('wallet.funds.posted');

    const first = transfer.giveBack('re_1', '1500');
    await send(first);
    expect(await answerTo(first)).toMatchObject({ type: 'wallet.funds.returned', data: { refundId: 're_1', amount: { amount: '1500', currency: 'EUR' } } });
    const retried = transfer.again(first);
    await send(retried);
    expect((await answerTo(retried)).data).toEqual((await answerTo(first)).data);
    expect(await balance(alice)).toMatchObject({ posted: '7500' });
    expect(await balance(bob)).toMatchObject({ posted: '2500' });

    // Bob spends 2000 elsewhere: the rest (2500) is more than he holds.
    const carol = await person('u-carol');
    const spend = new Transfer(bob, carol);
    const spendReserve = spend.reserve('2000');
    await send(spendReserve);
    await answerTo(spendReserve);
    const spendPost = spend.post();
    await send(spendPost);
    await answerTo(spendPost);
    const tooMuch = transfer.giveBack('re_2', '2500');
    await send(tooMuch);
    expect(await answerTo(tooMuch)).toMatchObject({ type: 'wallet.funds.rejected', data: { code: 'INSUFFICIENT_FUNDS' } });
    const beyond = transfer.giveBack('re_3', '2501');
    await send(beyond);
    expect(await answerTo(beyond)).toMatchObject({ type: 'wallet.funds.rejected', data: { code: 'INVALID_AMOUNT' } });
    expect(await balance(bob)).toMatchObject({ posted: '500' });
    expect(await balance(alice)).toMatchObject({ posted: '7500' });
    const rest = transfer.giveBack('re_4', '500');
    await send(rest);
    expect((await answerTo(rest)).type).toBe('wallet.funds.returned');
    expect(await balance(alice)).toMatchObject({ posted: '8000' });
    expect(await entriesOf(transfer.paymentId)).toEqual(['reserve', 'post_pending', 'reversal', 'reversal']);
  });

  it('reserve then post moves the money once; repeated commands get the first answer and move nothing', async () => {
    const alice = await person('u-alice', 10_000n);
    const bob = await person('u-bob');
    const transfer = new Transfer(alice, bob);
    const published = await watchTopic(Topics.walletEvents, (key) => key === transfer.paymentId);
    try {
      const reserve = transfer.reserve('2500');
      await send(reserve);
      const reserved = await answerTo(reserve);
      expect(reserved).toMatchObject({
        type: 'wallet.funds.reserved',
        subject: transfer.paymentId,
        sequence: 1,
        data: {
          commandId: reserve.data.commandId,
          paymentId: transfer.paymentId,
          amount: { amount: '2500', currency: 'EUR' },
          expiresAt: reserve.data.expiresAt,
        },
      });
      expect(await balance(alice)).toMatchObject({ posted: '10000', pendingOutgoing: '2500', available: '7500' });
      expect(await balance(bob)).toMatchObject({ posted: '0', pendingIncoming: '2500' });

      // Kafka delivers the command twice, orchestration retries it, and sends a second reserve for the same payment.
      const retried = transfer.again(reserve);
      const second = transfer.reserve('2500', new Date(Date.now() + 600_000));
      await send(reserve, retried, second);
      expect((await answerTo(retried)).data).toEqual(reserved.data);
      expect((await answerTo(second)).data).toEqual({ ...reserved.data, commandId: second.data.commandId });
      expect(await balance(alice)).toMatchObject({ pendingOutgoing: '2500', available: '7500' });

      const post = transfer.post();
      await send(post);
      expect(await answerTo(post)).toMatchObject({
        type: 'wallet.funds.posted',
        data: { commandId: post.data.commandId, amount: { amount: '2500', currency: 'EUR' } },
      });
      expect(await balance(alice)).toMatchObject({ posted: '7500', pendingOutgoing: '0', available: '7500' });
      expect(await balance(bob)).toMatchObject({ posted: '2500', pendingIncoming: '0', available: '2500' });

      const postAgain = transfer.post();
      await send(transfer.again(post), postAgain);
      expect((await answerTo(postAgain)).data).toMatchObject({ commandId: postAgain.data.commandId, amount: { amount: '2500', currency: 'EUR' } });
      expect(await balance(alice)).toMatchObject({ posted: '7500', available: '7500' });
      expect(await balance(bob)).toMatchObject({ posted: '2500' });
      expect(await entriesOf(transfer.paymentId)).toEqual(['reserve', 'post_pending']);

      // The exact duplicate was skipped by the inbox: it gets no second answer.
      const [count] = await wallet.query<{ n: string }>(`SELECT count(*)::text AS n FROM outbox WHERE topic = $1 AND payload->>'causationId' = $2`, [
        Topics.walletEvents,
        reserve.id,
      ]);
      expect(count.n).toBe('1');

      // The answers reach wallet.events.v1 through the outbox relay, in order, keyed by the payment.
      // (Any other wallet consuming wallet.commands.v1 meanwhile, e.g. another test's, answers too: keep ours.)
      const ours = new Set(
        (
          await wallet.query<{ event_id: string }>('SELECT event_id FROM outbox WHERE topic = $1 AND message_key = $2', [
            Topics.walletEvents,
            transfer.paymentId,
          ])
        ).map((r) => r.event_id),
      );
      expect(ours.size).toBe(6);
      const messages = await waitFor(
        async () => published.messages.filter((m) => ours.has(m.envelope.id)),
        (m) => m.length >= 6,
        { what: 'answers on wallet.events.v1' },
      );
      expect(messages.map((m) => [m.envelope.type, m.envelope.sequence])).toEqual([
        ['wallet.funds.reserved', 1],
        ['wallet.funds.reserved', 2],
        ['wallet.funds.reserved', 3],
        ['wallet.funds.posted', 4],
        ['wallet.funds.posted', 5],
        ['wallet.funds.posted', 6],
      ]);
    } finally {
      await published.stop();
    }
  });

  it('rejects a reserve the balance does not cover, and one from a sender without a wallet; a payment keeps its answer', async () => {
    const carol = await person('u-carol', 100n);
    const transfer = new Transfer(carol, await person('u-dan'));
    const reserve = transfer.reserve('500');
    await send(reserve);
    expect(await answerTo(reserve)).toMatchObject({ type: 'wallet.funds.rejected', data: { commandId: reserve.data.commandId, code: 'INSUFFICIENT_FUNDS' } });
    expect(await balance(carol)).toMatchObject({ posted: '100', pendingOutgoing: '0', available: '100' });

    const nobody = new Transfer(uniqueName('u-nobody'), carol).reserve('1');
    await send(nobody);
    expect((await answerTo(nobody)).data).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });

    // Money arrives later, but this payment's reserve was answered: a new attempt is a new payment.
    await topUp(wallet, personWallet(carol, 'EUR'), 1_000n);
    const retry = transfer.reserve('500');
    await send(retry);
    expect((await answerTo(retry)).data).toMatchObject({ commandId: retry.data.commandId, code: 'INSUFFICIENT_FUNDS' });
    expect(await balance(carol)).toMatchObject({ pendingOutgoing: '0', available: '1100' });
    expect(await entriesOf(transfer.paymentId)).toEqual([]);
  });

  it('reserve then void: the hold is released and nothing moves; a later post is refused', async () => {
    const erin = await person('u-erin', 1_000n);
    const frank = await person('u-frank');
    const transfer = new Transfer(erin, frank);
    const reserve = transfer.reserve('400');
    const cancel = transfer.void('canceled');
    const late = transfer.post();
    await send(reserve, cancel, late);
    expect((await answerTo(reserve)).type).toBe('wallet.funds.reserved');
    expect(await answerTo(cancel)).toMatchObject({ type: 'wallet.funds.voided', data: { commandId: cancel.data.commandId, reason: 'canceled' } });
    expect(await answerTo(late)).toMatchObject({ type: 'wallet.funds.rejected', data: { code: 'RESERVATION_NOT_PENDING' } });
    expect(await balance(erin)).toMatchObject({ posted: '1000', pendingOutgoing: '0', available: '1000' });
    expect(await balance(frank)).toMatchObject({ posted: '0', pendingIncoming: '0' });
    expect(await entriesOf(transfer.paymentId)).toEqual(['reserve', 'void_pending']);
  });

  it('the expiry sweeper releases an unconfirmed hold; a post after it is refused, a void confirmed', async () => {
    const gina = await person('u-gina', 1_000n);
    const transfer = new Transfer(gina, await person('u-hal'));
    const reserve = transfer.reserve('300', new Date(Date.now() + 3_000));
    await send(reserve);
    expect((await answerTo(reserve)).type).toBe('wallet.funds.reserved');
    expect(await balance(gina)).toMatchObject({ pendingOutgoing: '300', available: '700' });

    await waitFor(
      () => balance(gina),
      (b) => b.pendingOutgoing === '0',
      { what: 'the sweeper releasing the hold' },
    );
    expect(await entriesOf(transfer.paymentId)).toEqual(['reserve']); // the expiry is the ledger's own entry
    const expiry = await wallet.query(`SELECT kind FROM journal_entries WHERE transaction_id = $1`, [
      resolutionTransactionId(transferReservationId(transfer.paymentId), 'expire'),
    ]);
    expect(expiry).toEqual([{ kind: 'expire_pending' }]);

    const post = transfer.post();
    const cancel = transfer.void('timed_out');
    await send(post, cancel);
    expect((await answerTo(post)).data).toMatchObject({ code: 'RESERVATION_EXPIRED' });
    expect(await answerTo(cancel)).toMatchObject({ type: 'wallet.funds.voided', data: { reason: 'timed_out' } });
    expect(await balance(gina)).toMatchObject({ posted: '1000', available: '1000' });
  });

  it('posts part of a hold and releases the rest; refuses a post of more than was held', async () => {
    const ivy = await person('u-ivy', 1_000n);
    const jack = await person('u-jack');
    const partial = new Transfer(ivy, jack);
    const reserve = partial.reserve('600');
    const post = partial.post('250');
    await send(reserve, post);
    expect((await answerTo(post)).data).toMatchObject({ amount: { amount: '250', currency: 'EUR' } });
    expect(await balance(ivy)).toMatchObject({ posted: '750', pendingOutgoing: '0', available: '750' });
    expect(await balance(jack)).toMatchObject({ posted: '250' });

    const greedy = new Transfer(ivy, jack);
    const hold = greedy.reserve('100');
    const tooMuch = greedy.post('101');
    await send(hold, tooMuch);
    expect((await answerTo(tooMuch)).data).toMatchObject({ code: 'INVALID_AMOUNT' });
    expect(await balance(ivy)).toMatchObject({ posted: '750', pendingOutgoing: '100' });
  });

  it("dead-letters a command payment-orchestration did not attest — none, another key's, another command's — and moves nothing", async () => {
    const deadLetters = await watchDeadLetters(TOPIC, wallet.fundsGroup);
    try {
      const victim = await person('u-victim', 1_000n);
      const mallory = await person('u-mallory');
      const theft = new Transfer(victim, mallory);
      // Written by a principal the broker let through (the super user, a misapplied ACL): no attestation.
      const bare = theft.reserve('900');
      // Attested with a key of the attacker's own (not registered for funds:command).
      const forger = await FundsCommandAttester.create((await testKeyPair(uniqueName('forger'))).privateJwk, {
        issuer: 'https://id.test.pay',
        audience: 'pay-api',
      });
      const forged = theft.reserve('900');
      // orchestration's genuine attestation of a small command, moved onto a bigger one.
      const small = new Transfer(victim, mallory).reserve('1');
      const moved = theft.reserve('900');
      const genuine = (await wallet.fundsCommandHeaders(small))[FUNDS_COMMAND_ATTESTATION_HEADER];
      await publisher.publishWithHeaders(
        TOPIC,
        { envelope: bare, headers: {} },
        { envelope: forged, headers: { [FUNDS_COMMAND_ATTESTATION_HEADER]: await forger.attest(forged) } },
        { envelope: moved, headers: { [FUNDS_COMMAND_ATTESTATION_HEADER]: genuine } },
      );
      const letters = await waitFor(
        async () => [bare, forged, moved].map((command) => deadLetters.letters.find((letter) => letter.value.includes(command.id))),
        (found) => found.every((letter) => letter !== undefined),
        { what: 'the three unattested commands dead-lettered' },
      );
      const reasons = letters.map((letter) => letter!.headers['dlq-reason']);
      expect(reasons[0]).toMatch(/not attested by payment-orchestration, nothing moved: .*needs payment-orchestration's attestation/);
      expect(reasons[1]).toMatch(/not attested by payment-orchestration, nothing moved: .*not signed by a trusted key/);
      expect(reasons[2]).toMatch(/not attested by payment-orchestration, nothing moved: .*for another command/);
      // Each was refused before anything was read or written: no answer, hold or posting.
      const answered = await wallet.query(`SELECT 1 FROM outbox WHERE topic = $1 AND payload->>'causationId' = ANY($2)`, [
        Topics.walletEvents,
        [bare.id, forged.id, moved.id],
      ]);
      expect(answered).toEqual([]);
      expect(await entriesOf(theft.paymentId)).toEqual([]);
      expect(await balance(victim)).toMatchObject({ posted: '1000', pendingOutgoing: '0', available: '1000' });
      expect(await balanceOf(wallet, personWallet(mallory, 'EUR').id)).toBeUndefined();
      // The same command with orchestration's attestation is executed (the control).
      const real = theft.reserve('900');
      await send(real);
      expect((await answerTo(real)).type).toBe('wallet.funds.reserved');
    } finally {
      await deadLetters.stop();
    }
  });

  it('applied every command exactly once (inbox) and left the journal verifiable', async () => {
    const rows = await wallet.query<{ n: string }>('SELECT count(*)::text AS n FROM inbox WHERE consumer = $1', [wallet.fundsGroup]);
    expect(Number(rows[0].n)).toBeGreaterThan(10);
    expect(await applied(wallet, wallet.fundsGroup, randomUUID())).toBe(false);
    expect(await wallet.ledger.verify()).toMatchObject({ ok: true });
    expect(await wallet.ledger.balanceDrift()).toEqual([]);
  });
});
