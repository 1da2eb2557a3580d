import type { CanonicalValue } from './canonical';
import { canonicalJson, sha256Hex } from './canonical';
import { invalidInput } from './errors';
import type { PostingInput } from './posting';
import { validatePostingInputs } from './posting';
import type { Metadata } from './values';
import { assertCurrency, assertDate, assertId, assertMetadata, assertOptionalUuid, assertPositiveAmount, assertTransactionRef } from './values';

/** Tracing context carried to the outgoing event; not part of the content (a retry may differ). */
interface CommandContext {
  readonly metadata?: Metadata;
  readonly correlationId?: string;
  readonly causationId?: string;
}

/** A posted transaction: money moves now, all postings or none. */
export interface TransferCommand extends CommandContext {
  readonly type: 'transfer';
  readonly transactionId: string;
  readonly postings: readonly PostingInput[];
}

/**
 * A correction: a new transaction that mirrors an earlier one. Without postings it reverses
 * whatever of the original is not reversed yet; with postings, it reverses that part only.
 */
export interface ReverseCommand extends CommandContext {
  readonly type: 'reverse';
  readonly transactionId: string;
  readonly reverses: string;
  readonly postings?: readonly PostingInput[];
}

/** Phase one of a two-phase transfer: holds `amount` from the debit account until posted, voided or expired. */
export interface ReserveCommand extends CommandContext {
  readonly type: 'reserve';
  readonly transactionId: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly expiresAt: Date;
}

/** Phase two: moves the reserved amount (or less: the rest is released). */
export interface PostReservationCommand extends CommandContext {
  readonly type: 'post_reservation';
  readonly reservationId: string;
  readonly amount?: bigint;
}

export interface VoidReservationCommand extends CommandContext {
  readonly type: 'void_reservation';
  readonly reservationId: string;
}

/** Issued by the ledger itself (sweeper, or lazily when a late post or void finds the hold expired). */
export interface ExpireReservationCommand {
  readonly type: 'expire_reservation';
  readonly reservationId: string;
}

export type LedgerCommand = TransferCommand | ReverseCommand | ReserveCommand | PostReservationCommand | VoidReservationCommand | ExpireReservationCommand;

/** Only validateCommand makes one: the brand lets the store skip checking a command a second time. */
declare const validated: unique symbol;

/** A command validateCommand accepted (shape checked, metadata defaulted). */
export type ValidatedCommand = LedgerCommand & { readonly [validated]: true };

export type ReservationResolution = 'post' | 'void' | 'expire';

/**
 * A reservation resolves once, so its resolution gets a derived id: retrying a post returns the
 * first post, and a post after a void finds the void. ':' cannot occur in client ids.
 */
export function resolutionTransactionId(reservationId: string, resolution: ReservationResolution): string {
  return `${reservationId}:${resolution}`;
}

export function transactionIdOf(command: LedgerCommand): string {
  switch (command.type) {
    case 'transfer':
    case 'reverse':
    case 'reserve':
      return command.transactionId;
    case 'post_reservation':
      return resolutionTransactionId(command.reservationId, 'post');
    case 'void_reservation':
      return resolutionTransactionId(command.reservationId, 'void');
    case 'expire_reservation':
      return resolutionTransactionId(command.reservationId, 'expire');
  }
}

/** Checks a command's shape and returns it normalised (metadata defaulted). Throws INVALID_INPUT. */
export function validateCommand(command: LedgerCommand): ValidatedCommand {
  const checked = checkedCommand(command);
  validatedCommands.add(checked);
  return checked as ValidatedCommand;
}

function checkedCommand(command: LedgerCommand): LedgerCommand {
  const context = {
    metadata: 'metadata' in command ? assertMetadata(command.metadata) : undefined,
    correlationId: 'correlationId' in command ? assertOptionalUuid(command.correlationId, 'correlationId') : undefined,
    causationId: 'causationId' in command ? assertOptionalUuid(command.causationId, 'causationId') : undefined,
  };
  switch (command.type) {
    case 'transfer':
      return {
        ...context,
        type: 'transfer',
        transactionId: assertId(command.transactionId, 'transactionId'),
        postings: validatePostingInputs(command.postings),
      };
    case 'reverse':
      return {
        ...context,
        type: 'reverse',
        transactionId: assertId(command.transactionId, 'transactionId'),
        reverses: assertTransactionRef(command.reverses, 'reverses'),
        postings: command.postings === undefined ? undefined : validatePostingInputs(command.postings),
      };
    case 'reserve': {
      const debitAccountId = assertId(command.debitAccountId, 'debitAccountId');
      const creditAccountId = assertId(command.creditAccountId, 'creditAccountId');
      if (debitAccountId === creditAccountId) throw invalidInput('debitAccountId and creditAccountId must be different accounts');
      return {
        ...context,
        type: 'reserve',
        transactionId: assertId(command.transactionId, 'transactionId'),
        debitAccountId,
        creditAccountId,
        amount: assertPositiveAmount(command.amount, 'amount'),
        currency: assertCurrency(command.currency),
        expiresAt: assertDate(command.expiresAt, 'expiresAt'),
      };
    }
    case 'post_reservation':
      return {
        ...context,
        type: 'post_reservation',
        reservationId: assertId(command.reservationId, 'reservationId'),
        amount: command.amount === undefined ? undefined : assertPositiveAmount(command.amount, 'amount'),
      };
    case 'void_reservation':
      return { ...context, type: 'void_reservation', reservationId: assertId(command.reservationId, 'reservationId') };
    case 'expire_reservation':
      return { type: 'expire_reservation', reservationId: assertId(command.reservationId, 'reservationId') };
    default:
      throw invalidInput(`unknown command type ${(command as { type?: unknown }).type as string}`);
  }
}

function postingsContent(postings: readonly PostingInput[]): CanonicalValue {
  // Order-insensitive: the same postings listed in another order are the same request.
  return postings.map((p) => canonicalJson([p.accountId, p.direction, p.amount, p.currency])).sort();
}

/**
 * SHA-256 of what a command asks for, without tracing context. Same id + same content hash
 * is a retry (answered with the first result); same id + another hash is a conflict.
 */
export function contentHashOf(command: LedgerCommand): string {
  if (!isValidated(command)) return computeContentHash(command);
  let hash = validatedContentHashes.get(command);
  if (hash === undefined) {
    hash = computeContentHash(command);
    validatedContentHashes.set(command, hash);
  }
  return hash;
}

/**
 * Content hashes of validated commands, computed once: a validated command is the ledger's own
 * copy (validateCommand builds it, nobody else holds it) and never changes, so its hash can be
 * computed early, e.g. by the store while PostgreSQL locks and reads for the batch.
 */
const validatedContentHashes = new WeakMap<LedgerCommand, string>();
const validatedCommands = new WeakSet<LedgerCommand>();

function isValidated(command: LedgerCommand): command is ValidatedCommand {
  return validatedCommands.has(command);
}

function computeContentHash(command: LedgerCommand): string {
  const metadata = 'metadata' in command ? (command.metadata ?? {}) : {};
  let content: CanonicalValue;
  switch (command.type) {
    case 'transfer':
      content = { type: command.type, postings: postingsContent(command.postings), metadata };
      break;
    case 'reverse':
      content = {
        type: command.type,
        reverses: command.reverses,
        postings: command.postings ? postingsContent(command.postings) : null,
        metadata,
      };
      break;
    case 'reserve':
      content = {
        type: command.type,
        debitAccountId: command.debitAccountId,
        creditAccountId: command.creditAccountId,
        amount: command.amount,
        currency: command.currency,
        expiresAt: command.expiresAt,
        metadata,
      };
      break;
    case 'post_reservation':
      content = { type: command.type, reservationId: command.reservationId, amount: command.amount ?? null, metadata };
      break;
    case 'void_reservation':
    case 'expire_reservation':
      content = { type: command.type, reservationId: command.reservationId, metadata };
      break;
  }
  return sha256Hex(canonicalJson(content));
}
