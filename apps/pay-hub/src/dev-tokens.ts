import type { CryptoKey, JWK } from 'jose';
import { importJWK, SignJWT } from 'jose';
import type { DevTokenMinter } from './hub-server';

/**
 * Development tokens signed with HUB_DEV_SIGNING_JWK (the development identity key `npm start` makes), 60 minutes,
 * for `audience`; an agent's (role `support`) for `agentAudience` alone, as the identity provider issues them.
 */
export async function devTokenMinter(privateJwk: string, issuer: string, audiences: { audience: string; agentAudience: string }): Promise<DevTokenMinter> {
  const jwk = JSON.parse(privateJwk) as JWK;
  const algorithm = jwk.alg ?? 'ES256';
  const key = (await importJWK(jwk, algorithm)) as CryptoKey;
  return ({ sub, role, ...serviceClaims }) =>
    new SignJWT({ role, ...serviceClaims })
      .setProtectedHeader({ alg: algorithm, ...(jwk.kid ? { kid: jwk.kid } : {}) })
      .setIssuer(issuer)
      .setAudience(role === 'support' ? audiences.agentAudience : audiences.audience)
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime('60m')
      .sign(key);
}
