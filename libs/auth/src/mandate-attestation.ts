import { createHash } from 'node:crypto';
import type { JWK } from 'jose';
import type { TypedJwsKind } from './typed-jws';
import { TypedJwsSigner } from './typed-jws';

/**
 * The HTTP header in which the Pay Hub's server sends the wallet its attestation of a person's
 * acceptance of a debit mandate, with the person's own request to save a bank account.
 */
export const MANDATE_ATTESTATION_HEADER = 'mandate-attestation';

/** Its `typ`: never taken as an access token, nor an access token as an attestation. */
export const MANDATE_ATTESTATION_TYPE = 'mandate-attestation+jwt';

/** The subject the hub's key signs for, and the scope its grant must hold to attest mandates. */
export const PAY_HUB_SUBJECT = 'pay-hub';
export const MANDATE_ATTEST_SCOPE = 'mandates:attest';

/** One save request and its retry, not a standing permission. */
export const MANDATE_ATTESTATION_LIFETIME_SECONDS = 60;

/**
 * What the hub saw when the person accepted the mandate text it showed: the text's version, the
 * address and user agent of the request it received (the address resolved through its trusted
 * proxies), and when (the hub's clock). Bound to the person and the account (a digest, never the
 * number), so it attests nothing else.
 */
export interface MandateAttestation {
  readonly personId: string;
  /** `mandateAccountDigest` of the account saved under it. */
  readonly account: string;
  readonly textVersion: string;
  readonly ipAddress: string;
  readonly userAgent: string;
  readonly acceptedAt: Date;
}

/** The account a mandate is for, as both the hub and the wallet name it: an IBAN, US numbers, or a bank connection. */
export type MandatedAccount = { iban: string } | { routingNumber: string; accountNumber: string } | { financialConnectionsSession: string };

/** SHA-256 (hex) of the account's canonical identifier: an IBAN without spaces in capitals, `routing:account`, or the session id. */
export function mandateAccountDigest(account: MandatedAccount): string {
  const canonical =
    'iban' in account
      ? `iban:${account.iban.replace(/\s+/g, '').toUpperCase()}`
      : 'financialConnectionsSession' in account
        ? `fcsess:${account.financialConnectionsSession}`
        : `us:${account.routingNumber}:${account.accountNumber}`;
  return createHash('sha256').update(canonical).digest('hex');
}

/** The kind: the hub's key (subject `pay-hub`, its grant holding `mandates:attest`), a minute, no id. */
export const MANDATE_ATTESTATION: TypedJwsKind = {
  name: 'mandate attestation',
  type: MANDATE_ATTESTATION_TYPE,
  subject: PAY_HUB_SUBJECT,
  scope: MANDATE_ATTEST_SCOPE,
  lifetimeSeconds: MANDATE_ATTESTATION_LIFETIME_SECONDS,
  withId: false,
};

/** Signs mandate attestations with the hub's key (`HUB_SERVICE_SIGNING_JWK`; its grant: subject `pay-hub`, scope `mandates:attest`). */
export class MandateAttestationSigner {
  private constructor(private readonly signer: TypedJwsSigner) {}

  static async create(privateJwk: JWK, claims: { issuer: string; audience: string }, now: () => number = Date.now): Promise<MandateAttestationSigner> {
    return new MandateAttestationSigner(await TypedJwsSigner.create(MANDATE_ATTESTATION, privateJwk, claims, now));
  }

  /** The attestation of an acceptance the hub saw now. */
  sign(acceptance: Omit<MandateAttestation, 'acceptedAt'>): Promise<string> {
    return this.signer.sign({
      person: acceptance.personId,
      account: acceptance.account,
      mandate: {
        text_version: acceptance.textVersion,
        ip_address: acceptance.ipAddress,
        user_agent: acceptance.userAgent,
        accepted_at: new Date(this.signer.time()).toISOString(),
      },
    });
  }
}
