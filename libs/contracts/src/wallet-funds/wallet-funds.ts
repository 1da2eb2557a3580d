import { IsIn, IsISO8601, IsOptional, IsUUID } from 'class-validator';
import type { EventDefinition } from '../envelope/event-registry';
import { defineEvent } from '../envelope/event-registry';
import { IsOpaqueId } from '../envelope/ids';
import { IsMoney, Money } from '../envelope/money';
import { Topics } from '../topics';

/**
 * Person-to-person payments from wallet balance, as a conversation between orchestration and
 * the wallet: commands on `wallet.commands.v1` (subject = payment id), answers on
 * `wallet.events.v1` (subject = payment id too, so a payment's answers stay ordered).
 *
 * Each command carries a `commandId` (UUID): the wallet applies a command once (its inbox) and
 * answers a repeated command with the same outcome. The reservation's ledger id is derived from
 * the payment id, so a retried reserve never holds twice.
 */

/**
 * The Kafka header of every funds command on wallet.commands.v1: payment-orchestration's attestation
 * of exactly that command (a JWS signed with its own key, libs/auth `FundsCommandAttester`). The
 * wallet dead-letters a command without a valid one.
 */
export const FUNDS_COMMAND_ATTESTATION_HEADER = 'funds-command-attestation';

export const FUNDS_REJECTION_CODES = [
  'INSUFFICIENT_FUNDS',
  'ACCOUNT_NOT_FOUND',
  'CURRENCY_MISMATCH',
  'RESERVATION_NOT_PENDING',
  'RESERVATION_EXPIRED',
  'INVALID_AMOUNT',
] as const;
export type FundsRejectionCode = (typeof FUNDS_REJECTION_CODES)[number];

abstract class FundsCommandData {
  @IsUUID()
  commandId!: string;

  @IsOpaqueId()
  paymentId!: string;
}

/** Hold `amount` of the sender's wallet balance for the payment until `expiresAt`. */
export class ReserveFundsData extends FundsCommandData {
  @IsOpaqueId()
  senderId!: string;

  @IsOpaqueId()
  recipientId!: string;

  @IsMoney()
  amount!: Money;

  @IsISO8601({ strict: true })
  expiresAt!: string;
}

/** Move the held money to the recipient: all of it, or `amount` of it (the rest is released). */
export class PostReservedFundsData extends FundsCommandData {
  @IsOptional()
  @IsMoney()
  amount?: Money;
}

export const VOID_REASONS = ['canceled', 'timed_out', 'failed_checks', 'compensation'] as const;

/** Release the hold; nothing moves. */
export class VoidReservedFundsData extends FundsCommandData {
  @IsIn(VOID_REASONS)
  reason!: (typeof VOID_REASONS)[number];
}

/**
 * Give back `amount` of a posted transfer (a refund of a person-to-person payment): from the
 * recipient's wallet to the sender's, under the ledger id of the refund. The wallet refuses it
 * when the recipient's balance no longer covers it (INSUFFICIENT_FUNDS), or when it would give
 * back more than was posted (INVALID_AMOUNT). One command per refund: several may follow a payment.
 */
export class ReturnFundsData extends FundsCommandData {
  @IsOpaqueId()
  refundId!: string;

  @IsOpaqueId()
  senderId!: string;

  @IsOpaqueId()
  recipientId!: string;

  @IsMoney()
  amount!: Money;
}

/** The wallet's answer to a command. */
export class FundsReservedData extends FundsCommandData {
  @IsMoney()
  amount!: Money;

  @IsISO8601({ strict: true })
  expiresAt!: string;
}

export class FundsRejectedData extends FundsCommandData {
  @IsIn(FUNDS_REJECTION_CODES)
  code!: FundsRejectionCode;
}

export class FundsPostedData extends FundsCommandData {
  @IsMoney()
  amount!: Money;
}

export class FundsVoidedData extends FundsCommandData {
  @IsIn(VOID_REASONS)
  reason!: (typeof VOID_REASONS)[number];
}

/** The money of a refund went back to the sender. */
export class FundsReturnedData extends FundsCommandData {
  @IsOpaqueId()
  refundId!: string;

  @IsMoney()
  amount!: Money;
}

const command = <T extends object>(name: string, dataClass: new () => T, description: string) =>
  defineEvent({ type: `wallet.funds.${name}`, version: 1, topic: Topics.walletCommands, dataClass, description });
const answer = <T extends object>(name: string, dataClass: new () => T, description: string) =>
  defineEvent({ type: `wallet.funds.${name}`, version: 1, topic: Topics.walletEvents, dataClass, description });

export const ReserveFundsV1 = command(
  'reserve-requested',
  ReserveFundsData,
  'Orchestration asks the wallet to hold a sender’s balance for a person-to-person payment.',
);
export const PostReservedFundsV1 = command('post-requested', PostReservedFundsData, 'Orchestration confirms a hold: the money moves to the recipient.');
export const VoidReservedFundsV1 = command('void-requested', VoidReservedFundsData, 'Orchestration releases a hold (canceled, timed out, compensation).');
export const ReturnFundsV1 = command(
  'return-requested',
  ReturnFundsData,
  'Orchestration refunds (part of) a posted person-to-person payment: the recipient gives the amount back to the sender.',
);
export const FundsReservedV1 = answer('reserved', FundsReservedData, 'The wallet holds the amount until expiresAt.');
export const FundsRejectedV1 = answer('rejected', FundsRejectedData, 'The wallet refused a funds command; the code says why.');
export const FundsPostedV1 = answer('posted', FundsPostedData, 'The held money moved to the recipient.');
export const FundsVoidedV1 = answer('voided', FundsVoidedData, 'The hold was released; nothing moved.');
export const FundsReturnedV1 = answer('returned', FundsReturnedData, 'The refunded amount went back from the recipient to the sender.');

export const WALLET_FUNDS_EVENTS: readonly EventDefinition[] = [
  ReserveFundsV1,
  PostReservedFundsV1,
  VoidReservedFundsV1,
  ReturnFundsV1,
  FundsReservedV1,
  FundsRejectedV1,
  FundsPostedV1,
  FundsVoidedV1,
  FundsReturnedV1,
];
