import { randomUUID } from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';
import { importJWK, SignJWT } from 'jose';

/**
 * The HTTP header in which the support service sends payment-orchestration the case an agent's
 * refund belongs to: a JWS signed with support's own key (`SUPPORT_SERVICE_TOKEN_SIGNING_JWK`).
 */
export const SUPPORT_CASE_HEADER = 'support-case';

/**
 * The HTTP header in which the support service passes on, with each refund request, the access
 * token of the agent asking (the bearer token of the agent's own request, issued by the identity
 * provider): orchestration refunds for support only when it verifies as the token of the agent the
 * case names (`AccessTokenVerifier.verifySupportAgent`), so support's key alone moves no money.
 * A credential: never logged (its name says "token", which the log scrubber redacts).
 */
export const SUPPORT_AGENT_TOKEN_HEADER = 'support-agent-token';

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
export interface SupportCase {
  readonly conversationId: string;
  readonly agentId: string;
  readonly paymentId: string;
  /** The agent's Idempotency-Key, passed on: a copied case reference can only repeat the same refund. */
  readonly idempotencyKey: string;
  /** Minor units, as a decimal string, and the ISO-4217 currency. */
  readonly amount: { readonly amount: string; readonly currency: string };
}

/** A case reference as orchestration verified it: also its id (`jti`, spent at first use) and when it expires. */
export interface VerifiedSupportCase extends SupportCase {
  readonly caseId: string;
  readonly expiresAt: Date;
}

/** Signs case references with support's key (the same key and `kid` as its service tokens, so the same grant bounds them). */
export class SupportCaseSigner {
  private constructor(
    private readonly key: CryptoKey,
    private readonly kid: string,
    private readonly algorithm: 'ES256' | 'EdDSA',
    private readonly claims: { issuer: string; audience: string },
    private readonly now: () => number,
  ) {}

  static async create(privateJwk: JWK, claims: { issuer: string; audience: string }, now: () => number = Date.now): Promise<SupportCaseSigner> {
    const algorithm = privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
    if (typeof privateJwk.kid !== 'string') throw new Error('the support signing JWK needs a "kid"');
    return new SupportCaseSigner((await importJWK(privateJwk, algorithm)) as CryptoKey, privateJwk.kid, algorithm, claims, now);
  }

  async sign(supportCase: SupportCase): Promise<string> {
    const issuedAt = Math.floor(this.now() / 1000);
    return new SignJWT({
      conversation: supportCase.conversationId,
      agent: supportCase.agentId,
      payment: supportCase.paymentId,
      idempotency_key: supportCase.idempotencyKey,
      amount: { amount: supportCase.amount.amount, currency: supportCase.amount.currency },
    })
      .setProtectedHeader({ alg: this.algorithm, kid: this.kid, typ: SUPPORT_CASE_TYPE })
      .setIssuer(this.claims.issuer)
      .setAudience(this.claims.audience)
      .setSubject(SUPPORT_SERVICE_SUBJECT)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + SUPPORT_CASE_LIFETIME_SECONDS)
      .sign(this.key);
  }
}
