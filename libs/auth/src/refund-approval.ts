import type { JWTPayload, JWK } from 'jose';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { AuthenticationError } from './auth-errors';
import { PAY_HUB_SUBJECT } from './mandate-attestation';
import type { RefundStatement } from './refund-statement';
import { refundClaims, RefundStatementSigner } from './refund-statement';
import type { TypedJwsKind } from './typed-jws';
import { TypedJwsSigner } from './typed-jws';

/**
 * The HTTP header in which the Pay Hub sends the support service, with an agent's own refund
 * request, its approval of that one refund; support passes it on to payment-orchestration, which
 * refunds for support only with it (docs/security.md, "Refund approvals").
 */
export const REFUND_APPROVAL_HEADER = 'refund-approval';

/** Its `typ`: never taken as an access token, nor an agent's access token as an approval. */
export const REFUND_APPROVAL_TYPE = 'refund-approval+jwt';

/** The scope the hub's key grant must hold to approve agents' refunds (no other key's grant holds it). */
export const REFUND_APPROVE_SCOPE = 'refunds:approve';

/** The agent's click and the refund request it starts (with support's call to orchestration), never a standing permission. */
export const REFUND_APPROVAL_LIFETIME_SECONDS = 60;

/**
 * What the hub saw: this agent (its session's subject, role support) asked, in its own session on
 * the hub's pages, for this refund — this conversation's payment, this exact amount, under this
 * Idempotency-Key. The same fields as the case support signs, so the two are compared field by field.
 */
export type RefundApproval = RefundStatement;

/** An approval as it was verified: also its id (`jti`, spent at first use) and when it expires. */
export interface VerifiedRefundApproval extends RefundApproval {
  readonly approvalId: string;
  readonly expiresAt: Date;
}

/** The kind: the hub's key (subject `pay-hub`, its grant holding `refunds:approve`), a minute, an id. */
export const REFUND_APPROVAL: TypedJwsKind = {
  name: 'refund approval',
  type: REFUND_APPROVAL_TYPE,
  subject: PAY_HUB_SUBJECT,
  scope: REFUND_APPROVE_SCOPE,
  lifetimeSeconds: REFUND_APPROVAL_LIFETIME_SECONDS,
  withId: true,
  clockToleranceSeconds: 5,
};

/** Signs refund approvals with the hub's key (`HUB_SERVICE_SIGNING_JWK`). */
export class RefundApprovalSigner extends RefundStatementSigner {
  static async create(privateJwk: JWK, claims: { issuer: string; audience: string }, now: () => number = Date.now): Promise<RefundApprovalSigner> {
    return new RefundApprovalSigner(await TypedJwsSigner.create(REFUND_APPROVAL, privateJwk, claims, now));
  }
}

/**
 * What an approval says, NOT verified: for the support service, which does not trust it either way
 * but refuses early an approval of another refund than the one it is about to sign a case for
 * (orchestration verifies the signature, the grant and the expiry, and spends it). Throws
 * AuthenticationError when it is not a refund approval naming one refund.
 */
export function readRefundApproval(token: string): RefundApproval {
  let header: { typ?: string };
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    throw new AuthenticationError('malformed', 'the refund approval is not a JWS');
  }
  if (header.typ !== REFUND_APPROVAL_TYPE) throw new AuthenticationError('bad-claims', `the refund approval must be of type "${REFUND_APPROVAL_TYPE}"`);
  return refundClaims(payload, REFUND_APPROVAL.name);
}
