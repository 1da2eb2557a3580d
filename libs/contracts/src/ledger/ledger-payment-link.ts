/**
 * The payment a ledger transaction posts, and for a take-back the refund or dispute it posts.
 * It travels in the entry's metadata (the journal hashes metadata, so the link is part of what was
 * recorded): the wallet writes it with `paymentLinkMetadata`, consumers read it with `paymentLinkOf`,
 * and neither side spells the keys.
 */
export interface LedgerPaymentLink {
  readonly paymentId: string;
  readonly refundId?: string;
  readonly disputeId?: string;
}

/** The metadata keys of a LedgerPaymentLink, on the wire in `ledger.transaction.recorded` v1. */
export const LEDGER_PAYMENT_LINK_KEYS = { paymentId: 'paymentId', refundId: 'refundId', disputeId: 'disputeId' } as const;

/** The link as metadata entries, to spread into a ledger command's metadata. */
export function paymentLinkMetadata(link: LedgerPaymentLink): Record<string, string> {
  const metadata: Record<string, string> = { [LEDGER_PAYMENT_LINK_KEYS.paymentId]: link.paymentId };
  if (link.refundId !== undefined) metadata[LEDGER_PAYMENT_LINK_KEYS.refundId] = link.refundId;
  if (link.disputeId !== undefined) metadata[LEDGER_PAYMENT_LINK_KEYS.disputeId] = link.disputeId;
  return metadata;
}

/** The payment a ledger entry posts; undefined for an entry of no payment (an empty id is none). */
export function paymentLinkOf(metadata: Readonly<Record<string, string>> | undefined): LedgerPaymentLink | undefined {
  const paymentId = metadata?.[LEDGER_PAYMENT_LINK_KEYS.paymentId];
  if (!metadata || !paymentId) return undefined;
  const refundId = metadata[LEDGER_PAYMENT_LINK_KEYS.refundId];
  const disputeId = metadata[LEDGER_PAYMENT_LINK_KEYS.disputeId];
  return { paymentId, ...(refundId ? { refundId } : {}), ...(disputeId ? { disputeId } : {}) };
}
