import type {
  LedgerTransactionRecordedData,
  PaymentActionRequiredData,
  PaymentAuthorizedData,
  PaymentCanceledData,
  PaymentCapturedData,
  PaymentDisputeLostData,
  PaymentDisputeOpenedData,
  PaymentDisputeWonData,
  PaymentFailedData,
  PaymentInitiatedData,
  PaymentProcessingData,
  PaymentRefundedData,
  PaymentRefundFailedData,
  PaymentRefundRequestedData,
} from '@pay/contracts';
import { paymentLinkOf } from '@pay/contracts';
import type { ProjectableEvent } from './projectable-event';
import { maxInstant, minInstant, normalizeInstant, PAYMENT_EVENT_PREFIX, stableJson } from './projectable-event';

/**
 * Everything the projection knows of one payment: a merge of its events that does not depend
 * on the order they arrive in, nor on how often. Each fact keeps the stream position
 * (`seq`, the envelope's `sequence`) of the event that told it; when two events tell the same
 * fact, the later position wins. Timestamps merge by min / max. So any permutation of any
 * multiset of a payment's events gives the same facts, and the history derives from facts only.
 */
export interface Stamp {
  seq: number;
  at: string;
}

export interface Parties {
  kind: string;
  payerId: string;
  counterpartyType: string;
  counterpartyId: string;
  currency: string;
}

export interface RefundFacts {
  requested?: Stamp & { amount: string; reason: string };
  succeeded?: Stamp & { amount: string };
  failed?: Stamp & { reason: string };
}

export interface DisputeFacts {
  opened?: Stamp & { amount: string; reason: string };
  won?: Stamp & { amount: string };
  lost?: Stamp & { amount: string };
}

/** A ledger transaction that carries this payment's id in its metadata (docs/adr/0005). */
export interface LedgerLink {
  position: string;
  at: string;
  refundId?: string;
  disputeId?: string;
}

export interface PaymentFacts {
  paymentId: string;
  /** Earliest and latest instants of the payment's own events; `lastAt` also counts ledger links. */
  firstAt?: string;
  lastAt?: string;
  initiated?: Stamp & Parties & { requestId: string; app: string; country: string; amount: string; captureMethod: string; methodId?: string };
  /** Who pays whom, as told by the events after which money moves (when `initiated` is missing). */
  movement?: Stamp & Parties;
  /** The provider holding the money and its reference. */
  holder?: Stamp & { provider: string; reference: string };
  actionRequired?: Stamp;
  authorized?: Stamp & { amount: string };
  /** A bank debit on its way (days); settled by `captured`, or failed late (`failed`). */
  processing?: Stamp & { amount: string };
  captured?: Stamp & { amount: string; authorizedAmount: string };
  failed?: Stamp & { code: string; declineCode?: string };
  canceled?: Stamp & { reason: string };
  refunds?: Record<string, RefundFacts>;
  disputes?: Record<string, DisputeFacts>;
  ledger?: Record<string, LedgerLink>;
}

/** The one of two versions of a fact that wins: the later stream position; the same position is the same event. */
function later<T extends Stamp>(current: T | undefined, incoming: T): T {
  if (current === undefined) return incoming;
  if (incoming.seq !== current.seq) return incoming.seq > current.seq ? incoming : current;
  // A producer bug could give one position two contents: keep one of them, whatever the order.
  return stableJson(incoming) > stableJson(current) ? incoming : current;
}

function sameOrLater<T>(current: T | undefined, incoming: T): T {
  if (current === undefined) return incoming;
  return stableJson(incoming) > stableJson(current) ? incoming : current;
}

function withoutUndefined<T extends object>(value: T): T {
  // A loop, not entries/filter/fromEntries: it runs for most payment events of a replay.
  const out: Record<string, unknown> = {};
  for (const key in value) if (value[key] !== undefined) out[key] = value[key];
  return out as T;
}

interface MovementData {
  kind: string;
  payerId: string;
  counterparty: { type: string; id: string };
  provider: string;
  reference: string;
  amount: { amount: string; currency: string };
}

function movementOf(data: MovementData, stamp: Stamp): Pick<PaymentFacts, 'movement' | 'holder'> {
  return {
    movement: {
      ...stamp,
      kind: data.kind,
      payerId: data.payerId,
      counterpartyType: data.counterparty.type,
      counterpartyId: data.counterparty.id,
      currency: data.amount.currency,
    },
    holder: { ...stamp, provider: data.provider, reference: data.reference },
  };
}

/** The payment id an event of `payments.events.v1` belongs to (its subject, and `data.paymentId`). */
export function paymentIdOf(event: ProjectableEvent): string {
  return (event.data as { paymentId?: string }).paymentId ?? event.subject;
}

/** Folds one payment event into the facts. Pure; events of other types leave the facts as they are. */
export function applyPaymentEvent(facts: PaymentFacts | undefined, event: ProjectableEvent): PaymentFacts {
  const paymentId = paymentIdOf(event);
  const base: PaymentFacts = facts ?? { paymentId };
  if (!event.type.startsWith(PAYMENT_EVENT_PREFIX)) return base;
  const at = normalizeInstant(event.occurredAt);
  const stamp: Stamp = { seq: event.sequence, at };
  const next: PaymentFacts = { ...base, firstAt: minInstant(base.firstAt, at), lastAt: maxInstant(base.lastAt, at) };
  const name = event.type.slice(PAYMENT_EVENT_PREFIX.length);
  switch (name) {
    case 'initiated': {
      const d = event.data as PaymentInitiatedData;
      next.initiated = later(
        base.initiated,
        withoutUndefined({
          ...stamp,
          requestId: d.requestId,
          kind: d.kind,
          payerId: d.payerId,
          counterpartyType: d.counterparty.type,
          counterpartyId: d.counterparty.id,
          currency: d.amount.currency,
          app: d.app,
          country: d.country,
          amount: d.amount.amount,
          captureMethod: d.captureMethod,
          methodId: d.paymentMethodId,
        }),
      );
      break;
    }
    case 'action-required': {
      const d = event.data as PaymentActionRequiredData;
      next.actionRequired = later(base.actionRequired, stamp);
      next.holder = later(base.holder, { ...stamp, provider: d.provider, reference: d.reference });
      break;
    }
    case 'authorized': {
      const d = event.data as PaymentAuthorizedData;
      next.authorized = later(base.authorized, { ...stamp, amount: d.amount.amount });
      next.holder = later(base.holder, { ...stamp, provider: d.provider, reference: d.reference });
      break;
    }
    case 'processing': {
      const d = event.data as PaymentProcessingData;
      const moved = movementOf(d, stamp);
      next.processing = later(base.processing, { ...stamp, amount: d.amount.amount });
      next.movement = later(base.movement, moved.movement!);
      next.holder = later(base.holder, moved.holder!);
      break;
    }
    case 'captured': {
      const d = event.data as PaymentCapturedData;
      const moved = movementOf(d, stamp);
      next.captured = later(base.captured, { ...stamp, amount: d.amount.amount, authorizedAmount: d.authorizedAmount.amount });
      next.movement = later(base.movement, moved.movement!);
      next.holder = later(base.holder, moved.holder!);
      break;
    }
    case 'failed': {
      const d = event.data as PaymentFailedData;
      next.failed = later(base.failed, withoutUndefined({ ...stamp, code: d.code, declineCode: d.declineCode }));
      break;
    }
    case 'canceled': {
      const d = event.data as PaymentCanceledData;
      next.canceled = later(base.canceled, { ...stamp, reason: d.reason });
      break;
    }
    case 'refund-requested': {
      const d = event.data as PaymentRefundRequestedData;
      next.refunds = withRefund(base.refunds, d.refundId, (r) => ({
        ...r,
        requested: later(r.requested, { ...stamp, amount: d.amount.amount, reason: d.reason }),
      }));
      break;
    }
    case 'refunded': {
      const d = event.data as PaymentRefundedData;
      const moved = movementOf(d, stamp);
      next.refunds = withRefund(base.refunds, d.refundId, (r) => ({ ...r, succeeded: later(r.succeeded, { ...stamp, amount: d.amount.amount }) }));
      next.movement = later(base.movement, moved.movement!);
      next.holder = later(base.holder, moved.holder!);
      break;
    }
    case 'refund-failed': {
      const d = event.data as PaymentRefundFailedData;
      next.refunds = withRefund(base.refunds, d.refundId, (r) => ({ ...r, failed: later(r.failed, { ...stamp, reason: d.reason }) }));
      break;
    }
    case 'dispute-opened': {
      const d = event.data as PaymentDisputeOpenedData;
      next.disputes = withDispute(base.disputes, d.disputeId, (x) => ({
        ...x,
        opened: later(x.opened, { ...stamp, amount: d.amount.amount, reason: d.reason }),
      }));
      break;
    }
    case 'dispute-won': {
      const d = event.data as PaymentDisputeWonData;
      next.disputes = withDispute(base.disputes, d.disputeId, (x) => ({ ...x, won: later(x.won, { ...stamp, amount: d.amount.amount }) }));
      break;
    }
    case 'dispute-lost': {
      const d = event.data as PaymentDisputeLostData;
      const moved = movementOf(d, stamp);
      next.disputes = withDispute(base.disputes, d.disputeId, (x) => ({ ...x, lost: later(x.lost, { ...stamp, amount: d.amount.amount }) }));
      next.movement = later(base.movement, moved.movement!);
      next.holder = later(base.holder, moved.holder!);
      break;
    }
    default:
      // A payment event type this projection does not know yet: it is kept in raw_events, and
      // a later projection version can use it after a rebuild.
      return base;
  }
  return next;
}

function withRefund(
  refunds: Record<string, RefundFacts> | undefined,
  refundId: string,
  change: (refund: RefundFacts) => RefundFacts,
): Record<string, RefundFacts> {
  return { ...refunds, [refundId]: change(refunds?.[refundId] ?? {}) };
}

function withDispute(
  disputes: Record<string, DisputeFacts> | undefined,
  disputeId: string,
  change: (dispute: DisputeFacts) => DisputeFacts,
): Record<string, DisputeFacts> {
  return { ...disputes, [disputeId]: change(disputes?.[disputeId] ?? {}) };
}

/**
 * The payment a ledger transaction posts (its LedgerPaymentLink, with the refund or dispute of a
 * take-back); undefined for ledger transactions of no payment.
 */
export function ledgerLinkOf(data: LedgerTransactionRecordedData): { paymentId: string; transactionId: string; link: LedgerLink } | undefined {
  const posts = paymentLinkOf(data.metadata);
  if (!posts) return undefined;
  const link: LedgerLink = withoutUndefined({
    position: data.position,
    at: normalizeInstant(data.recordedAt),
    refundId: posts.refundId,
    disputeId: posts.disputeId,
  });
  return { paymentId: posts.paymentId, transactionId: data.transactionId, link };
}

/** Records that a ledger transaction posted (part of) the payment. Pure and idempotent. */
export function applyLedgerLink(facts: PaymentFacts | undefined, paymentId: string, transactionId: string, link: LedgerLink): PaymentFacts {
  const base: PaymentFacts = facts ?? { paymentId };
  return {
    ...base,
    lastAt: maxInstant(base.lastAt, link.at),
    ledger: { ...base.ledger, [transactionId]: sameOrLater(base.ledger?.[transactionId], link) },
  };
}

/** Whether the facts hold anything (a placeholder row holds `{}`). */
export function hasFacts(facts: PaymentFacts | undefined): facts is PaymentFacts {
  return facts !== undefined && Object.keys(facts).length > 1;
}
