import { AccessTokenVerifier } from '@pay/auth';
import { exportJWK, generateKeyPair } from 'jose';
import { devTokenMinter } from './dev-tokens';

describe("the hub's development tokens", () => {
  it("are taken as the identity provider's would be: a person's by every service, an agent's by the support service alone", async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'dev-identity', alg: 'ES256', use: 'sig' }] };
    const privateJwk = JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'dev-identity', alg: 'ES256' });
    const mint = await devTokenMinter(privateJwk, 'https://id.pay.local', { audience: 'pay-api', agentAudience: 'pay-support' });
    const wallet = new AccessTokenVerifier({ jwks, issuer: 'https://id.pay.local', audience: 'pay-api' });
    const support = new AccessTokenVerifier({ jwks, issuer: 'https://id.pay.local', audience: 'pay-api', agentAudience: 'pay-support' });

    const person = await mint({ sub: 'person-1', role: 'person' });
    expect(await wallet.verify(person)).toMatchObject({ subject: 'person-1', role: 'person' });
    expect(await support.verify(person)).toMatchObject({ subject: 'person-1', role: 'person' });

    const agent = await mint({ sub: 'agent-1', role: 'support' });
    expect(await support.verify(agent)).toMatchObject({ subject: 'agent-1', role: 'support' });
    await expect(wallet.verify(agent)).rejects.toMatchObject({ reason: 'bad-claims' });
  });
});
