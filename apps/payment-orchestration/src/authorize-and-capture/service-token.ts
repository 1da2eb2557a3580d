import type { JWK } from 'jose';
import type { ServiceTokenSource } from '@pay/auth';
import { FundsCommandAttester, PAYMENT_ORCHESTRATION_SUBJECT, SignedServiceTokens } from '@pay/auth';

/** What this service's own tokens ask for: reading the instrument of the payment it charges. */
export const SERVICE_TOKEN_SCOPES = ['instruments:read'] as const;

/** This service's tokens for the wallet (subject `payment-orchestration`, scope `instruments:read`). */
export function orchestrationServiceTokens(privateJwk: JWK, claims: { issuer: string; audience: string }): Promise<ServiceTokenSource> {
  return SignedServiceTokens.create(privateJwk, { ...claims, subject: PAYMENT_ORCHESTRATION_SUBJECT, scopes: SERVICE_TOKEN_SCOPES });
}

/**
 * The attester of this service's funds commands (its own key, the same as its tokens'; its grant must
 * hold `funds:command`), or none without SERVICE_TOKEN_SIGNING_JWK: the wallet then refuses them.
 */
export function orchestrationFundsCommandAttester(
  privateJwk: string | undefined,
  claims: { issuer: string; audience: string },
): Promise<FundsCommandAttester | undefined> {
  return privateJwk ? FundsCommandAttester.create(JSON.parse(privateJwk) as JWK, claims) : Promise.resolve(undefined);
}
