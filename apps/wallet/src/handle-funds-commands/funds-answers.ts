import type { FundsRejectionCode, VOID_REASONS } from '@pay/contracts';
import type { LedgerErrorCode } from '@pay/ledger-domain';

/**
 * The wallet's answers to funds commands (wallet.events.v1), as they are remembered per command
 * (funds_command_answers.data) and re-sent for a repeated command. The envelope adds
 * `commandId` and `paymentId`.
 */
export type FundsCommand = 'reserve' | 'post' | 'void' | 'return';
export type VoidReason = (typeof VOID_REASONS)[number];

interface MoneyText {
  readonly amount: string;
  readonly currency: string;
}

export type FundsAnswer =
  | { readonly outcome: 'reserved'; readonly amount: MoneyText; readonly expiresAt: string }
  | { readonly outcome: 'posted'; readonly amount: MoneyText }
  | { readonly outcome: 'voided'; readonly reason: VoidReason }
  | { readonly outcome: 'returned'; readonly refundId: string; readonly amount: MoneyText }
  | { readonly outcome: 'rejected'; readonly code: FundsRejectionCode };

export const rejected = (code: FundsRejectionCode): FundsAnswer => ({ outcome: 'rejected', code });

/**
 * What the ledger's refusal of a command means for orchestration. `voided` for a void that
 * finds the hold already expired: it was released, nothing moved, which is what a void asks.
 * `undefined`: not an answer but a fault (an id reused with other content, malformed input):
 * the command is dead-lettered with the reason instead, because no answer would be true.
 */
export function answerToRefusal(command: FundsCommand, code: LedgerErrorCode): FundsRejectionCode | 'voided' | undefined {
  switch (code) {
    case 'INSUFFICIENT_FUNDS':
    case 'ACCOUNT_NOT_FOUND':
    case 'CURRENCY_MISMATCH':
      return code;
    case 'AMOUNT_TOO_LARGE':
    case 'AMOUNT_EXCEEDS_RESERVATION':
      return 'INVALID_AMOUNT';
    // A return of more than is left of the posted transfer.
    case 'REVERSAL_EXCEEDS_ORIGINAL':
      return command === 'return' ? 'INVALID_AMOUNT' : undefined;
    // A return of a transfer that was never posted: there is nothing to give back.
    case 'TRANSACTION_NOT_FOUND':
      return command === 'return' ? 'RESERVATION_NOT_PENDING' : undefined;
    case 'RESERVATION_EXPIRED':
      return command === 'void' ? 'voided' : 'RESERVATION_EXPIRED';
    // Already posted (or voided), or never reserved: either way there is no hold to act on.
    case 'RESERVATION_NOT_PENDING':
    case 'RESERVATION_NOT_FOUND':
      return 'RESERVATION_NOT_PENDING';
    default:
      return undefined;
  }
}
