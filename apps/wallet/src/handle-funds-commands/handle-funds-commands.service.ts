import { Inject, Injectable } from '@nestjs/common';
import type { AccessTokenVerifier } from '@pay/auth';
import { ACCESS_TOKEN_VERIFIER, AuthenticationError, FUNDS_COMMAND_ATTESTATION_HEADER, KeySetUnavailableError } from '@pay/auth';
import type { EventDefinition, EventEnvelope, PostReservedFundsData, ReserveFundsData, ReturnFundsData, VoidReservedFundsData } from '@pay/contracts';
import { createEvent, FundsPostedV1, FundsRejectedV1, FundsReservedV1, FundsReturnedV1, FundsVoidedV1, paymentLinkMetadata } from '@pay/contracts';
import type { CommandOutcome, PostReservationCommand, ReserveCommand, ReverseCommand, VoidReservationCommand } from '@pay/ledger-domain';
import { LedgerError } from '@pay/ledger-domain';
import type { PostgresLedger } from '@pay/ledger-store';
import type { ConsumedEvent } from '@pay/messaging';
import { appendToOutbox, DependencyUnavailableError, headerText, PermanentEventError } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import type { NamedStatement, Sql } from '@pay/platform';
import { LOGGER, queryNamed } from '@pay/platform';
import { LEDGER } from '../ledger';
import { personWallet } from '../money/chart-of-accounts';
import { LedgerAccounts } from '../money/ledger-accounts';
import { transferReservationId } from '../money/ledger-ids';
import { planTransferReturn } from '../post-payments-to-ledger/payment-postings';
import type { FundsAnswer, FundsCommand } from './funds-answers';
import { answerToRefusal, rejected } from './funds-answers';

type FundsCommandData = ReserveFundsData | PostReservedFundsData | VoidReservedFundsData | ReturnFundsData;

interface AnswerRow {
  command: FundsCommand;
  payment_id: string;
  data: FundsAnswer;
}

/** The statements every funds command runs, prepared once per connection. */
const ANSWER_OF_COMMAND: NamedStatement = {
  name: 'wallet_funds_answer_of_command',
  text: 'SELECT command, payment_id, data FROM funds_command_answers WHERE command_id = $1',
};
const FIRST_ANSWER: NamedStatement = {
  name: 'wallet_funds_first_answer',
  text: 'SELECT command, payment_id, data FROM funds_command_answers WHERE payment_id = $1 AND command = $2 ORDER BY sequence LIMIT 1',
};
const SAVE_ANSWER: NamedStatement = {
  name: 'wallet_funds_save_answer',
  text: 'INSERT INTO funds_command_answers (command_id, payment_id, command, outcome, sequence, data) VALUES ($1, $2, $3, $4, $5, $6::jsonb)',
};
const NEXT_ANSWER_SEQUENCE: NamedStatement = {
  name: 'wallet_funds_next_answer_sequence',
  text: `INSERT INTO funds_answer_streams (payment_id, last_sequence) VALUES ($1, 1)
         ON CONFLICT (payment_id) DO UPDATE SET last_sequence = funds_answer_streams.last_sequence + 1
         RETURNING last_sequence`,
};

const ANSWER_EVENTS: Record<FundsAnswer['outcome'], EventDefinition> = {
  reserved: FundsReservedV1,
  posted: FundsPostedV1,
  voided: FundsVoidedV1,
  returned: FundsReturnedV1,
  rejected: FundsRejectedV1,
};

/**
 * Answers orchestration's funds commands (wallet.commands.v1) for person-to-person payments
 * from wallet balance: reserve, post or void a ledger hold whose id is derived from the payment,
 * and answer on wallet.events.v1 through the outbox, in the inbox's transaction.
 *
 * One answer per command and per payment: a command seen before (its commandId, or another
 * command of the same kind for the same payment) gets the first answer again, and moves no
 * money. The ledger commits in its own transaction; a crash before the inbox commits redelivers
 * the command, whose derived id replays the first ledger result.
 *
 * Only payment-orchestration's commands are executed: each must carry its attestation of exactly
 * that record (`funds-command-attestation`, signed by a key whose grant holds `funds:command`).
 * The broker's ACLs already let no one else write the topic; a command that got there anyway (the
 * super user, a misapplied ACL) is dead-lettered with the reason, before anything is read or written.
 */
@Injectable()
export class HandleFundsCommands {
  private readonly accounts: LedgerAccounts;

  constructor(
    @Inject(LEDGER) private readonly ledger: PostgresLedger,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier,
  ) {
    this.accounts = new LedgerAccounts(ledger);
  }

  reserveFunds(event: ConsumedEvent<ReserveFundsData>, sql: Sql): Promise<void> {
    return this.answer('reserve', event, sql, (envelope) => this.reserve(envelope));
  }

  postReservedFunds(event: ConsumedEvent<PostReservedFundsData>, sql: Sql): Promise<void> {
    return this.answer('post', event, sql, (envelope) => this.post(envelope, sql));
  }

  voidReservedFunds(event: ConsumedEvent<VoidReservedFundsData>, sql: Sql): Promise<void> {
    return this.answer('void', event, sql, (envelope) => this.void(envelope));
  }

  returnFunds(event: ConsumedEvent<ReturnFundsData>, sql: Sql): Promise<void> {
    return this.answer('return', event, sql, (envelope) => this.return(envelope));
  }

  private async answer<T extends FundsCommandData>(
    command: FundsCommand,
    event: ConsumedEvent<T>,
    sql: Sql,
    decide: (envelope: EventEnvelope<T>) => Promise<FundsAnswer>,
  ): Promise<void> {
    await this.checkSender(event);
    const { envelope } = event;
    const { commandId, paymentId } = envelope.data;
    const [seen] = await queryNamed<AnswerRow>(sql, ANSWER_OF_COMMAND, [commandId]);
    if (seen) {
      if (seen.command !== command || seen.payment_id !== paymentId) {
        throw new PermanentEventError(
          `commandId ${commandId} was already used for the ${seen.command} of payment ${seen.payment_id}; a new command needs a new commandId`,
        );
      }
      await this.send(sql, envelope, seen.data);
      return;
    }
    // A payment has one reserve, post and void, but a return per refund: returns are told apart by their command id alone.
    const [first] = command === 'return' ? [] : await queryNamed<AnswerRow>(sql, FIRST_ANSWER, [paymentId, command]);
    const answer = first ? first.data : await decide(envelope);
    const sequence = await this.send(sql, envelope, answer);
    await queryNamed(sql, SAVE_ANSWER, [commandId, paymentId, command, answer.outcome, sequence, JSON.stringify(answer)]);
    this.logger.info({ paymentId, commandId, command, outcome: answer.outcome, repeated: first !== undefined }, 'funds command answered');
  }

  /** payment-orchestration's attestation of exactly this record's value, or a dead letter saying what was wrong. */
  private async checkSender(event: ConsumedEvent<FundsCommandData>): Promise<void> {
    const attestation = headerText(event.headers, FUNDS_COMMAND_ATTESTATION_HEADER);
    try {
      const value: unknown = event.value ? JSON.parse(event.value.toString('utf8')) : undefined;
      if (value === null || typeof value !== 'object')
        throw new AuthenticationError('malformed', 'the funds command has no value to compare its attestation with');
      await this.verifier.verifyFundsCommand(attestation, value);
    } catch (error) {
      if (error instanceof KeySetUnavailableError) throw new DependencyUnavailableError('auth-keys', error.message, { cause: error });
      if (error instanceof AuthenticationError) {
        throw new PermanentEventError(`funds command not attested by payment-orchestration, nothing moved: ${error.message}`);
      }
      throw error;
    }
  }

  private async reserve(envelope: EventEnvelope<ReserveFundsData>): Promise<FundsAnswer> {
    const { data } = envelope;
    const amount = BigInt(data.amount.amount);
    const { currency } = data.amount;
    if (amount <= 0n) return rejected('INVALID_AMOUNT');
    if (data.senderId === data.recipientId) throw new PermanentEventError(`payment ${data.paymentId}: senderId and recipientId must be different persons`);
    const expiresAt = new Date(data.expiresAt);
    const sender = personWallet(data.senderId, currency);
    const recipient = personWallet(data.recipientId, currency);
    // A sender without a wallet in this currency has nothing to send; opening one would not change that.
    if (!(await this.ledger.findAccount(sender.id))) return rejected('ACCOUNT_NOT_FOUND');
    await this.accounts.ensureOpen([recipient]).catch((error: unknown) => {
      throw error instanceof LedgerError
        ? new PermanentEventError(`payment ${data.paymentId}: cannot open the recipient's wallet: ${error.code}: ${error.message}`)
        : error;
    });
    const outcome = await this.submit(envelope, {
      type: 'reserve',
      transactionId: transferReservationId(data.paymentId),
      debitAccountId: sender.id,
      creditAccountId: recipient.id,
      amount,
      currency,
      expiresAt,
      metadata: { ...paymentLinkMetadata({ paymentId: data.paymentId }), flow: 'p2p' },
    });
    if (outcome.ok) {
      const held = outcome.entry.postings.find((p) => p.layer === 'pending' && p.direction === 'debit');
      return {
        outcome: 'reserved',
        amount: { amount: (held?.amount ?? amount).toString(), currency },
        expiresAt: (outcome.entry.expiresAt ?? expiresAt).toISOString(),
      };
    }
    // The ledger refuses an expiry that has passed as malformed input; for orchestration the hold is simply too late.
    if (outcome.error.code === 'INVALID_INPUT' && expiresAt.getTime() <= Date.now()) return rejected('RESERVATION_EXPIRED');
    return this.refusal('reserve', envelope, outcome.error);
  }

  private async post(envelope: EventEnvelope<PostReservedFundsData>, sql: Sql): Promise<FundsAnswer> {
    const { data } = envelope;
    let amount: bigint | undefined;
    if (data.amount) {
      amount = BigInt(data.amount.amount);
      if (amount <= 0n) return rejected('INVALID_AMOUNT');
      const [reserved] = await sql.query<AnswerRow>(
        `SELECT command, payment_id, data FROM funds_command_answers WHERE payment_id = $1 AND command = 'reserve' AND outcome = 'reserved' LIMIT 1`,
        [data.paymentId],
      );
      if (reserved?.data.outcome === 'reserved' && reserved.data.amount.currency !== data.amount.currency) return rejected('CURRENCY_MISMATCH');
    }
    const outcome = await this.submit(envelope, {
      type: 'post_reservation',
      reservationId: transferReservationId(data.paymentId),
      amount,
      metadata: paymentLinkMetadata({ paymentId: data.paymentId }),
    });
    if (outcome.ok) {
      const moved = outcome.entry.postings.find((p) => p.layer === 'posted' && p.direction === 'debit');
      if (!moved) throw new Error(`the ledger posted reservation ${outcome.entry.reservationId} without a posted debit`);
      return { outcome: 'posted', amount: { amount: moved.amount.toString(), currency: moved.currency } };
    }
    return this.refusal('post', envelope, outcome.error);
  }

  private async void(envelope: EventEnvelope<VoidReservedFundsData>): Promise<FundsAnswer> {
    const { data } = envelope;
    const outcome = await this.submit(envelope, {
      type: 'void_reservation',
      reservationId: transferReservationId(data.paymentId),
      metadata: paymentLinkMetadata({ paymentId: data.paymentId }),
    });
    if (outcome.ok) return { outcome: 'voided', reason: data.reason };
    return this.refusal('void', envelope, outcome.error);
  }

  /**
   * A refund of a posted transfer: the recipient gives the amount back, under the refund's ledger
   * id (the `refunded` event that follows replays it). The ledger refuses more than was posted,
   * and a recipient whose balance no longer covers it.
   */
  private async return(envelope: EventEnvelope<ReturnFundsData>): Promise<FundsAnswer> {
    const { data } = envelope;
    const amount = BigInt(data.amount.amount);
    const { currency } = data.amount;
    if (amount <= 0n) return rejected('INVALID_AMOUNT');
    if (data.senderId === data.recipientId) throw new PermanentEventError(`payment ${data.paymentId}: senderId and recipientId must be different persons`);
    const plan = planTransferReturn({
      paymentId: data.paymentId,
      refundId: data.refundId,
      senderId: data.senderId,
      recipientId: data.recipientId,
      amount,
      currency,
    });
    const outcome = await this.submit(envelope, plan.command as ReverseCommand);
    if (outcome.ok) return { outcome: 'returned', refundId: data.refundId, amount: { amount: amount.toString(), currency } };
    return this.refusal('return', envelope, outcome.error);
  }

  private submit(envelope: EventEnvelope, command: ReserveCommand | PostReservationCommand | VoidReservationCommand | ReverseCommand): Promise<CommandOutcome> {
    return this.ledger.submit({ ...command, correlationId: envelope.correlationId, causationId: envelope.id });
  }

  private refusal(command: FundsCommand, envelope: EventEnvelope<FundsCommandData>, error: LedgerError): FundsAnswer {
    const answer = answerToRefusal(command, error.code);
    if (answer === 'voided') return { outcome: 'voided', reason: (envelope.data as VoidReservedFundsData).reason };
    if (answer) return rejected(answer);
    throw new PermanentEventError(`the ledger refused the ${command} of payment ${envelope.data.paymentId}: ${error.code}: ${error.message}`);
  }

  /** Appends the answer to the outbox (published if and only if the inbox transaction commits); returns its sequence. */
  private async send(sql: Sql, command: EventEnvelope<FundsCommandData>, answer: FundsAnswer): Promise<number> {
    const { commandId, paymentId } = command.data;
    const [stream] = await queryNamed<{ last_sequence: number }>(sql, NEXT_ANSWER_SEQUENCE, [paymentId]);
    const { outcome, ...fields } = answer;
    const envelope = createEvent({
      definition: ANSWER_EVENTS[outcome],
      source: 'wallet',
      subject: paymentId,
      sequence: stream.last_sequence,
      correlationId: command.correlationId,
      causationId: command.id,
      data: { commandId, paymentId, ...fields },
    });
    await appendToOutbox(sql, [{ topic: ANSWER_EVENTS[outcome].topic, envelope }]);
    return stream.last_sequence;
  }
}
