import type { JWK } from 'jose';
import type { RefundStatement } from './refund-statement';
import { RefundStatementSigner } from './refund-statement';
import type { TypedJwsKind } from './typed-jws';
import { TypedJwsSigner } from './typed-jws';

/**
 * The HTTP header in which the support service sends payment-orchestration the case an agent's
 * refund belongs to: a JWS signed with support's own key (`SUPPORT_SERVICE_TOKEN_SIGNING_JWK`).
 */
export const SUPPORT_CASE_HEADER = 'support-case';

/** Its `typ`: never taken as an access token (the verifier refuses it there), nor an access token as a case. */
export const SUPPORT_CASE_TYPE = 'support-case+jwt';

/** The subject support's key signs for (its grant in `AUTH_KEY_GRANTS` allows no other). */
export const SUPPORT_SERVICE_SUBJECT = 'support';

/**
 * How long a case reference is good for: the one refund request support makes with it (support's
 * call to orchestration times out within PAYMENT_ORCHESTRATION_TIMEOUT_MS, at most 10 s), with
 * room for clock skew; never a standing permission. Orchestration also spends it at first use.
 */
export const SUPPORT_CASE_LIFETIME_SECONDS = 15;

/**
 * What support attests when it asks for an agent's refund: this conversation, claimed by this agent
 * at the moment of signing, is about this payment, and the agent asks for this refund (its
 * Idempotency-Key and amount). Orchestration refunds for support only what a case names.
 */
export type SupportCase = RefundStatement;

/** A case reference as orchestration verified it: also its id (`jti`, spent at first use) and when it expires. */
export interface VerifiedSupportCase extends SupportCase {
  readonly caseId: string;
  readonly expiresAt: Date;
}

/** The kind: support's key (subject `support`, its grant holding `payments:refund`), 15 s, an id, 5 s of skew. */
export const SUPPORT_CASE: TypedJwsKind = {
  name: 'support case',
  type: SUPPORT_CASE_TYPE,
  subject: SUPPORT_SERVICE_SUBJECT,
  scope: 'payments:refund',
  lifetimeSeconds: SUPPORT_CASE_LIFETIME_SECONDS,
  withId: true,
  clockToleranceSeconds: 5,
};

/** Signs case references with support's key (the same key and `kid` as its service tokens, so the same grant bounds them). */
export class SupportCaseSigner extends RefundStatementSigner {
  static async create(privateJwk: JWK, claims: { issuer: string; audience: string }, now: () => number = Date.now): Promise<SupportCaseSigner> {
    return new SupportCaseSigner(await TypedJwsSigner.create(SUPPORT_CASE, privateJwk, claims, now));
  }
}
