import { createHash } from 'node:crypto';
import { ID_PATTERN } from '@pay/ledger-domain';

/**
 * Ledger ids derived from the ids other services give us. Those may hold ':' and be up to 100
 * characters (contracts' ID_PATTERN); ledger ids may not hold ':' (it marks a reservation's
 * resolution, `<reservation>:post`). A single id that fits is used as it is, so the journal stays
 * readable (`capture.pay_123`); anything else is hashed under a distinct prefix (`<kind>-h.`),
 * so the two forms never collide.
 */
export function derivedLedgerId(kind: string, ...parts: readonly string[]): string {
  if (parts.length === 1) {
    const plain = `${kind}.${parts[0]}`;
    if (ID_PATTERN.test(plain)) return plain;
  }
  return `${kind}-h.${digest(kind, parts)}`;
}

/** 160 bits of SHA-256 in hex: far beyond any collision risk for ids, and short enough to read. */
export function digest(kind: string, parts: readonly string[]): string {
  const hash = createHash('sha256').update(kind, 'utf8');
  for (const part of parts) hash.update('\u0000', 'utf8').update(part, 'utf8');
  return hash.digest('hex').slice(0, 40);
}

/** The ledger transaction of a captured payment: one per payment, whatever envelope it came in. */
export const captureTransactionId = (paymentId: string): string => derivedLedgerId('capture', paymentId);

/** A bank debit on its way, posted to the pending layer: one per payment. */
export const debitPendingTransactionId = (paymentId: string): string => derivedLedgerId('debit-pending', paymentId);

/** A bank debit that failed late: the pending posting taken back, one per payment. */
export const debitFailedTransactionId = (paymentId: string): string => derivedLedgerId('debit-failed', paymentId);

/** A settled refund: one per (payment, refund). */
export const refundTransactionId = (paymentId: string, refundId: string): string => derivedLedgerId('refund', paymentId, refundId);

/** A lost dispute (chargeback): one per (payment, dispute). */
export const disputeLossTransactionId = (paymentId: string, disputeId: string): string => derivedLedgerId('dispute-loss', paymentId, disputeId);

/**
 * The hold of a person-to-person payment from wallet balance: one per payment, so a retried
 * reserve replays the first instead of holding twice.
 */
export const transferReservationId = (paymentId: string): string => derivedLedgerId('p2p', paymentId);
