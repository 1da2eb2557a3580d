import type { JWK } from 'jose';
import type { ServiceTokenSource } from '@pay/auth';
import { SignedServiceTokens } from '@pay/auth';

/** What this service's own tokens ask for: reading the instrument of the payment it charges. */
export const SERVICE_TOKEN_SCOPES = ['instruments:read'] as const;

/** This service's tokens for the wallet (subject `payment-orchestration`, scope `instruments:read`). */
export function orchestrationServiceTokens(privateJwk: JWK, claims: { issuer: string; audience: string }): Promise<ServiceTokenSource> {
  return SignedServiceTokens.create(privateJwk, { ...claims, subject: 'payment-orchestration', scopes: SERVICE_TOKEN_SCOPES });
}
