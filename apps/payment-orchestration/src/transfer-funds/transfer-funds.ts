import type { EventEnvelope, FundsPostedData, FundsRejectedData, FundsReservedData, FundsReturnedData, FundsVoidedData } from '@pay/contracts';
import {
  FundsPostedV1,
  FundsRejectedV1,
  FundsReservedV1,
  FundsReturnedV1,
  FundsVoidedV1,
  money,
  PostReservedFundsV1,
  ReturnFundsV1,
  toMinorUnits,
  VoidReservedFundsV1,
} from '@pay/contracts';
import type { FundsCommandAttester } from '@pay/auth';
import { PermanentEventError } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import type { PaymentEvent, PaymentState, RefundObservation } from '@pay/payments-domain';
import { findRefund, isPaymentDomainError, planRefundObservation } from '@pay/payments-domain';
import type { DataSource } from 'typeorm';
import type { Sql } from '../database/sql';
import { inTransaction } from '../database/sql';
import type { PaymentEventStore, StoredPayment } from '../payments/store/payment-event-store';
import type { ClaimedStep } from '../run-payment-steps/payment-steps';
import type { PaymentSteps } from '../run-payment-steps/payment-steps';
import type { StepResult } from '../run-payment-steps/payment-step-worker';
import type { SentFundsCommand } from './funds-commands';
import { fundsCommands } from './funds-commands';

/** Who holds a transfer's money: the wallet's ledger reservation. */
export const WALLET_PROVIDER = 'wallet';

/**
 * Use case: a person-to-person transfer from the wallet balance, as a conversation with the
 * wallet (DESIGN "Main flows" 2). Intake sent ReserveFunds; here the wallet's answers drive the
 * payment. Command ids are stored, never re-drawn: the sender is never charged twice.
 */
export class TransferFunds {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PaymentEventStore,
    private readonly steps: PaymentSteps,
    private readonly logger: Logger,
    /** Signs each funds command (orchestration's key); absent without SERVICE_TOKEN_SIGNING_JWK, and the wallet refuses the commands. */
    private readonly attester?: FundsCommandAttester,
  ) {}

  /** Handlers of the wallet's answers on wallet.events.v1, run in the inbox transaction. */
  answerHandlers(): Record<string, (sql: Sql, envelope: EventEnvelope) => Promise<void>> {
    return {
      [FundsReservedV1.type]: (sql, envelope) => this.authorizeThenPost(sql, envelope as EventEnvelope<FundsReservedData>),
      [FundsRejectedV1.type]: (sql, envelope) => this.failOrCancel(sql, envelope as EventEnvelope<FundsRejectedData>),
      [FundsPostedV1.type]: (sql, envelope) => this.capture(sql, envelope as EventEnvelope<FundsPostedData>),
      [FundsVoidedV1.type]: (sql, envelope) => this.cancelReleased(sql, envelope as EventEnvelope<FundsVoidedData>),
      [FundsReturnedV1.type]: (sql, envelope) => this.settleRefund(sql, envelope as EventEnvelope<FundsReturnedData>),
    };
  }

  /**
   * A refund of a transfer (RefundRequested, just appended in `sql`) asks the wallet to give the
   * money back: ReturnFunds commits with the request, and the wallet's answer settles the refund
   * (returned → Refunded) or fails it (rejected, e.g. the recipient spent it → RefundFailed).
   */
  async requestReturn(sql: Sql, payment: PaymentState, refundId: string, context: { correlationId?: string; causationId?: string }): Promise<void> {
    const refund = findRefund(payment, refundId);
    if (refund?.status !== 'pending') throw new Error(`payment ${payment.paymentId} has no pending refund ${refundId} to return`);
    await fundsCommands.send(
      sql,
      this.attester,
      payment.paymentId,
      'return',
      ReturnFundsV1,
      { refundId, senderId: payment.payerId, recipientId: payment.counterparty.id, amount: money(refund.amount, payment.currency) },
      context,
    );
  }

  /**
   * The `confirm-funds` step: a reservation not confirmed by its deadline is voided (compensation).
   * Canceled and VoidReservedFunds commit together, so a late `reserved` finds the payment canceled
   * and posts nothing; the wallet applies the void after the reserve (same partition).
   */
  async onConfirmationDeadline(step: ClaimedStep): Promise<StepResult> {
    await inTransaction(this.dataSource, async (sql) => {
      const stored = await this.store.loadStored(step.paymentId, sql);
      if (stored?.payment.status !== 'initiated') return;
      const [reserve] = (await fundsCommands.ofPayment(sql, step.paymentId)).filter((command) => command.type === 'reserve');
      await this.store.appendAfter(sql, step.paymentId, stored, [{ type: 'Canceled', reason: 'authorization_expired' }], {
        onAppended: async (tx, appended) => {
          await fundsCommands.send(
            tx,
            this.attester,
            step.paymentId,
            'void',
            VoidReservedFundsV1,
            { reason: 'timed_out' },
            { correlationId: appended.envelopes[0].correlationId, causationId: appended.envelopes[0].id },
          );
        },
      });
      this.logger.warn({ paymentId: step.paymentId, reserveCommandId: reserve?.commandId }, 'the wallet did not confirm the reservation in time: voided');
    });
    return { outcome: 'done' };
  }

  private async commandOf(sql: Sql, envelope: EventEnvelope<{ commandId: string; paymentId: string }>): Promise<SentFundsCommand | undefined> {
    const command = await fundsCommands.find(sql, envelope.data.commandId);
    if (!command || command.paymentId !== envelope.data.paymentId) {
      // Another orchestration's conversation (or a forged answer): nothing of ours.
      this.logger.debug({ commandId: envelope.data.commandId, type: envelope.type }, 'wallet answer to a command we did not send; ignored');
      return undefined;
    }
    return command;
  }

  /** reserved → Authorized (provider `wallet`, reference = the reserve command id), PostReservedFunds in the same transaction. */
  private async authorizeThenPost(sql: Sql, envelope: EventEnvelope<FundsReservedData>): Promise<void> {
    const command = await this.commandOf(sql, envelope);
    if (command?.type !== 'reserve') return;
    const payment = await this.store.loadStored(command.paymentId, sql);
    if (payment?.payment.status !== 'initiated') return; // voided meanwhile, or a re-delivered answer
    const event: PaymentEvent = { type: 'Authorized', amount: toMinorUnits(envelope.data.amount), provider: WALLET_PROVIDER, reference: command.commandId };
    await this.append(sql, payment, [event], envelope, async (tx, correlationId, causationId) => {
      await fundsCommands.send(tx, this.attester, command.paymentId, 'post', PostReservedFundsV1, {}, { correlationId, causationId });
      await this.steps.complete(command.paymentId, 'confirm-funds', tx);
    });
  }

  /** A refused reserve → Failed with the wallet's code (e.g. insufficient_funds); a refused post (the hold expired) → Canceled. */
  private async failOrCancel(sql: Sql, envelope: EventEnvelope<FundsRejectedData>): Promise<void> {
    const command = await this.commandOf(sql, envelope);
    if (!command) return;
    const payment = await this.store.loadStored(command.paymentId, sql);
    if (!payment) return;
    const code = envelope.data.code.toLowerCase();
    if (command.type === 'reserve' && payment.payment.status === 'initiated') {
      await this.append(sql, payment, [{ type: 'Failed', code }], envelope, (tx) => this.steps.complete(command.paymentId, 'confirm-funds', tx));
    } else if (command.type === 'return' && command.refundId) {
      await this.observeRefund(sql, payment, command.refundId, 'failed', envelope, code);
    } else if (command.type === 'post' && payment.payment.status === 'authorized') {
      // The hold ended before the post reached it: nothing moved, the payment cannot complete.
      this.logger.warn({ paymentId: payment.payment.id, code }, 'the wallet refused to post a reservation');
      await this.append(sql, payment, [{ type: 'Canceled', reason: 'authorization_expired' }], envelope);
    }
    // A refused void: the hold was already gone (expired or released); nothing to do.
  }

  /** posted → Captured: the money moved. */
  private async capture(sql: Sql, envelope: EventEnvelope<FundsPostedData>): Promise<void> {
    const command = await this.commandOf(sql, envelope);
    if (command?.type !== 'post') return;
    const payment = await this.store.loadStored(command.paymentId, sql);
    if (payment?.payment.status !== 'authorized') return;
    await this.append(sql, payment, [{ type: 'Captured', amount: toMinorUnits(envelope.data.amount) }], envelope);
  }

  /** returned → Refunded: the recipient gave the money back. */
  private async settleRefund(sql: Sql, envelope: EventEnvelope<FundsReturnedData>): Promise<void> {
    const command = await this.commandOf(sql, envelope);
    if (command?.type !== 'return' || command.refundId !== envelope.data.refundId) return;
    const payment = await this.store.loadStored(command.paymentId, sql);
    if (payment) await this.observeRefund(sql, payment, command.refundId, 'succeeded', envelope);
  }

  /** The wallet's answer about a refund, through the same planner as a PSP's (a repeated answer changes nothing). */
  private async observeRefund(
    sql: Sql,
    payment: StoredPayment,
    refundId: string,
    status: 'succeeded' | 'failed',
    cause: EventEnvelope,
    reason?: string,
  ): Promise<void> {
    const refund = findRefund(payment.payment.state, refundId);
    if (!refund) return;
    const observation: RefundObservation = { refundId, amount: refund.amount, status, ...(reason ? { reason } : {}) };
    const plan = planRefundObservation(payment.payment.state, observation);
    if (plan.outcome === 'advance') await this.append(sql, payment, [...plan.events], cause);
    else if (plan.outcome === 'conflict')
      this.logger.error({ paymentId: payment.payment.id, refundId, reason: plan.reason }, 'the wallet answer contradicts the refund');
  }

  /** voided → Canceled, nothing moved. */
  private async cancelReleased(sql: Sql, envelope: EventEnvelope<FundsVoidedData>): Promise<void> {
    const command = await this.commandOf(sql, envelope);
    if (!command) return;
    const payment = await this.store.loadStored(command.paymentId, sql);
    // We cancel when we send the void; a hold released by the wallet on its own ends the payment too.
    if (payment && (payment.payment.status === 'initiated' || payment.payment.status === 'authorized')) {
      await this.append(sql, payment, [{ type: 'Canceled', reason: 'authorization_expired' }], envelope);
    }
  }

  private async append(
    sql: Sql,
    payment: StoredPayment,
    events: PaymentEvent[],
    cause: EventEnvelope,
    also?: (sql: Sql, correlationId: string, causationId: string) => Promise<void>,
  ): Promise<void> {
    try {
      await this.store.appendAfter(sql, payment.payment.id, payment, events, {
        correlationId: cause.correlationId,
        causationId: cause.id,
        ...(also ? { onAppended: (tx, appended) => also(tx, appended.envelopes[0].correlationId, appended.envelopes.at(-1)!.id) } : {}),
      });
    } catch (error) {
      // The wallet said something the payment cannot take (another amount): retrying will not change it.
      if (isPaymentDomainError(error)) throw new PermanentEventError(error.message);
      throw error;
    }
  }
}
