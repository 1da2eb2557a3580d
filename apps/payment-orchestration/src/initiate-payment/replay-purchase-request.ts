import type { IHeaders, KafkaMessage } from 'kafkajs';
import { PURCHASE_REQUEST_AUTHORIZATION_HEADER } from './purchase-request-sender';
import { SENDER_ATTESTATION_HEADER } from './sender-attestation';

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Why a dead-lettered purchase request cannot be replayed: the app must send it again. */
export const RESEND_BY_PRODUCER = 'the app must send it again (the same request id is answered once)';

/**
 * How `npm run dlq:replay` re-sends dead-lettered purchase requests (DlqReplayOptions.replayAs):
 * with the operator's access token in `authorization` and the sender attestation orchestration
 * gave the dead letter, which the intake then takes as the sender (purchase-request-sender.ts).
 * A letter without an attestation (its sender never verified, or dead-lettered before attestations
 * existed) or redacted (it is no longer the bytes its sender wrote) is not replayable: its producer
 * must send it again.
 */
export function purchaseRequestReplay(
  operatorToken: string | undefined,
  now: number = Date.now(),
): (letter: KafkaMessage) => { headers: IHeaders } | { notReplayable: string } {
  // Without a token (a dry run) it only tells which letters are replayable.
  if (operatorToken !== undefined) refuseUnusable(operatorToken, now);
  return (letter) => {
    if (letter.headers?.['dlq-redacted']?.toString() === 'true') {
      return { notReplayable: `redacted when dead-lettered (it carried a secret), so not the request its sender made: ${RESEND_BY_PRODUCER}` };
    }
    const attestation = letter.headers?.[SENDER_ATTESTATION_HEADER]?.toString();
    if (!attestation) {
      return { notReplayable: `no ${SENDER_ATTESTATION_HEADER}: its sender was never verified (or it died before attestations): ${RESEND_BY_PRODUCER}` };
    }
    return {
      headers: { ...(operatorToken ? { [PURCHASE_REQUEST_AUTHORIZATION_HEADER]: `Bearer ${operatorToken}` } : {}), [SENDER_ATTESTATION_HEADER]: attestation },
    };
  };
}

/**
 * A token orchestration would refuse sends every letter back to the dead-letter topic: say so before
 * replaying (orchestration still verifies it; this only reads its claims).
 */
function refuseUnusable(token: string, now: number): void {
  if (!JWT.test(token)) throw new Error("the operator's access token must be a JWT (header.payload.signature)");
  let claims: { role?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as typeof claims;
  } catch {
    throw new Error("the operator's access token must be a JWT (header.payload.signature)");
  }
  if (claims.role !== 'operator') throw new Error(`the access token must be an operator's (role "operator"); this one's role is "${String(claims.role)}"`);
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < now + 60_000)
    throw new Error('the operator access token has expired or expires within a minute: get a new one');
}
