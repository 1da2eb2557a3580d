import { randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import { AccessTokenVerifier } from './access-token-verifier';
import { AuthenticationError } from './auth-errors';
import { FundsCommandAttester } from './funds-command-attestation';
import { parseKeyGrants } from './key-grants';
import { createTestIssuer, testKeyPair } from './testing';

const aCommand = () => ({
  id: randomUUID(),
  type: 'wallet.funds.reserve-requested',
  version: 1,
  source: 'payment-orchestration',
  subject: 'pay-1',
  sequence: 1,
  occurredAt: new Date(0).toISOString(),
  data: { commandId: randomUUID(), paymentId: 'pay-1', senderId: 'alice', recipientId: 'bob', amount: { amount: '1000', currency: 'EUR' } },
});

describe('funds command attestations (orchestration signs what it writes to wallet.commands.v1; the wallet verifies)', () => {
  let idp: Awaited<ReturnType<typeof createTestIssuer>>;
  let orchestration: { publicJwk: JWK; privateJwk: JWK };
  let instrumentsOnly: { publicJwk: JWK; privateJwk: JWK };
  let appBackend: { publicJwk: JWK; privateJwk: JWK };
  let verifier: AccessTokenVerifier;
  let now = Date.now();

  beforeAll(async () => {
    idp = await createTestIssuer();
    orchestration = await testKeyPair('orchestration-key');
    instrumentsOnly = await testKeyPair('old-orchestration-key');
    appBackend = await testKeyPair('instagram-key');
    const keyGrants = parseKeyGrants(
      JSON.stringify({
        'orchestration-key': { subjects: ['payment-orchestration'], roles: ['service'], scopes: ['funds:command', 'instruments:read'] },
        // Orchestration's key as registered before funds commands were attested: it reads instruments, it moves no money.
        'old-orchestration-key': { subjects: ['payment-orchestration'], roles: ['service'], scopes: ['instruments:read'] },
        'instagram-key': { subjects: ['instagram-backend'], roles: ['service'], scopes: ['payments:initiate'], apps: ['instagram'] },
      }),
    );
    const jwks = { keys: [...idp.jwks.keys, orchestration.publicJwk, instrumentsOnly.publicJwk, appBackend.publicJwk] };
    verifier = new AccessTokenVerifier({ jwks, keyGrants, issuer: idp.issuer, audience: idp.audience, clockToleranceSeconds: 0, now: () => now });
  });

  const attester = (jwk: JWK) => FundsCommandAttester.create(jwk, { issuer: idp.issuer, audience: idp.audience }, () => now);
  const refusal = async (attestation: string | undefined, command: object): Promise<string> => {
    const error = await verifier.verifyFundsCommand(attestation, command).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    return (error as AuthenticationError).message;
  };

  it('takes the command orchestration signed, whatever the order of its members after a trip through jsonb', async () => {
    const command = aCommand();
    const attestation = await (await attester(orchestration.privateJwk)).attest(command);
    const { data, ...rest } = command;
    const { amount, ...others } = data;
    const reordered = { data: { amount: { currency: amount.currency, amount: amount.amount }, ...others }, ...rest };
    expect(Object.keys(reordered)).not.toEqual(Object.keys(command));
    await expect(verifier.verifyFundsCommand(attestation, reordered)).resolves.toBeUndefined();
  });

  it('refuses a command without an attestation, or with one of another command, another amount or another recipient', async () => {
    const command = aCommand();
    expect(await refusal(undefined, command)).toMatch(/needs payment-orchestration's attestation \(header funds-command-attestation\)/);
    const attestation = await (await attester(orchestration.privateJwk)).attest(command);
    expect(await refusal(attestation, aCommand())).toMatch(/for another command/);
    expect(await refusal(attestation, { ...command, data: { ...command.data, amount: { amount: '100000', currency: 'EUR' } } })).toMatch(/for another command/);
    expect(await refusal(attestation, { ...command, data: { ...command.data, recipientId: 'mallory' } })).toMatch(/for another command/);
  });

  it("refuses one signed by a key without funds:command (orchestration's old grant, an app's backend), by the identity provider, or expired", async () => {
    const command = aCommand();
    expect(await refusal(await (await attester(instrumentsOnly.privateJwk)).attest(command), command)).toMatch(/scope "funds:command"/);
    expect(await refusal(await (await attester(appBackend.privateJwk)).attest(command), command)).toMatch(/not signed by a key registered for it/);
    const byIdp = await idp.signTestToken({ sub: 'payment-orchestration', role: 'service', command }, { typ: 'funds-command+jwt' });
    expect(await refusal(byIdp, command)).toMatch(/not signed by a key registered for it/);
    const attestation = await (await attester(orchestration.privateJwk)).attest(command);
    const signedAt = now;
    try {
      now = signedAt + 7 * 24 * 3600 * 1000 + 1000;
      expect(await refusal(attestation, command)).toMatch(/expired/);
    } finally {
      now = signedAt;
    }
  });
});
