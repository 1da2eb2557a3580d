import type { JWTPayload } from 'jose';
import { AuthenticationError } from './auth-errors';
import { SUBJECT_PATTERN } from './principal';
import type { TypedJwsSigner } from './typed-jws';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MINOR_UNITS = /^[1-9][0-9]{0,18}$/;
const CURRENCY = /^[A-Z]{3}$/;

/**
 * One refund an agent asks for, as both support's case reference and the Pay Hub's approval state
 * it (the same claims in both, so orchestration compares them field by field): this conversation,
 * claimed by this agent, is about this payment, and the agent asks for this refund.
 */
export interface RefundStatement {
  readonly conversationId: string;
  readonly agentId: string;
  readonly paymentId: string;
  /** The agent's Idempotency-Key, passed on: a copied statement can only repeat the same refund. */
  readonly idempotencyKey: string;
  /** Minor units, as a decimal string, and the ISO-4217 currency. */
  readonly amount: { readonly amount: string; readonly currency: string };
}

/** Signs statements of one refund of one kind (a support case, a refund approval): the kind's subclass names it. */
export class RefundStatementSigner {
  protected constructor(private readonly signer: TypedJwsSigner) {}

  sign(refund: RefundStatement): Promise<string> {
    return this.signer.sign({
      conversation: refund.conversationId,
      agent: refund.agentId,
      payment: refund.paymentId,
      idempotency_key: refund.idempotencyKey,
      amount: { amount: refund.amount.amount, currency: refund.amount.currency },
    });
  }
}

/**
 * Which field of a refund, if any, differs between two statements of it (a case and an approval,
 * or either and the request): undefined when they are the same refund.
 */
export function refundDifference(left: RefundStatement, right: RefundStatement): string | undefined {
  if (left.conversationId !== right.conversationId) return 'conversation';
  if (left.agentId !== right.agentId) return 'agent';
  if (left.paymentId !== right.paymentId) return 'payment';
  if (left.idempotencyKey !== right.idempotencyKey) return 'Idempotency-Key';
  if (left.amount.amount !== right.amount.amount || left.amount.currency !== right.amount.currency) return 'amount';
  return undefined;
}

/**
 * The refund a support case or a refund approval names (the same claims in both): a conversation,
 * an agent, a payment, an Idempotency-Key and an amount; else AuthenticationError naming `kind`.
 */
export function refundClaims(payload: JWTPayload, kind: string): RefundStatement {
  const { conversation, agent, payment, idempotency_key: idempotencyKey, amount } = payload;
  const money = (amount ?? {}) as Record<string, unknown>;
  if (
    typeof conversation !== 'string' ||
    !UUID.test(conversation) ||
    typeof agent !== 'string' ||
    !SUBJECT_PATTERN.test(agent) ||
    typeof payment !== 'string' ||
    !SUBJECT_PATTERN.test(payment) ||
    typeof idempotencyKey !== 'string' ||
    !UUID.test(idempotencyKey) ||
    typeof money.amount !== 'string' ||
    !MINOR_UNITS.test(money.amount) ||
    typeof money.currency !== 'string' ||
    !CURRENCY.test(money.currency)
  ) {
    throw new AuthenticationError('bad-claims', `the ${kind} must name a conversation, an agent, a payment, an Idempotency-Key and an amount`);
  }
  return {
    conversationId: conversation,
    agentId: agent,
    paymentId: payment,
    idempotencyKey,
    amount: { amount: money.amount, currency: money.currency },
  };
}
