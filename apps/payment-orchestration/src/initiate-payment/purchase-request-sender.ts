import type { AccessTokenVerifier, Principal } from '@pay/auth';
import { AuthenticationError, describeActor, KeySetUnavailableError } from '@pay/auth';
import type { ConsumedEvent } from '@pay/messaging';
import { DependencyUnavailableError, headerText, PermanentEventError } from '@pay/messaging';
import { mayInitiateInApp } from '../view-payment/payment-access';

/** The Kafka header that carries the sending app backend's access token: `Bearer <JWT>`, as over HTTP. */
export const PURCHASE_REQUEST_AUTHORIZATION_HEADER = 'authorization';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/** The scope an app backend's token needs to ask for payments, through either door. */
export const INITIATE_SCOPE = 'payments:initiate';

/**
 * Who sent a purchase request on Kafka: the app backend whose access token travels in the
 * record's `authorization` header (Kafka does not tell a consumer which principal wrote a
 * record). The token is judged as of the record's timestamp (never later than now), so consumer
 * lag does not expire it; on a LogAppendTime topic (production) that is the broker's time.
 * It must be a service token with `payments:initiate` acting for the app the request names, as
 * over HTTP. Anything else is a dead letter with the reason (nothing is written; the header is
 * not copied into it); the token keys unavailable is an outage, retried until they answer.
 * Answers what the rate limit is keyed by: `service:<subject>`.
 */
export async function authenticateSender(verifier: AccessTokenVerifier, event: ConsumedEvent<{ app: string }>, now: number = Date.now()): Promise<string> {
  const header = headerText(event.headers, PURCHASE_REQUEST_AUTHORIZATION_HEADER);
  const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
  if (!token) {
    throw new PermanentEventError(
      `purchase request without its sender's access token: the "${PURCHASE_REQUEST_AUTHORIZATION_HEADER}" header must hold "Bearer <JWT>", an app backend's token with ${INITIATE_SCOPE}`,
    );
  }
  const written = Number(event.timestamp);
  const at = Number.isFinite(written) && written > 0 ? Math.min(written, now) : now;
  let sender: Principal;
  try {
    sender = await verifier.verify(token, at);
  } catch (error) {
    if (error instanceof KeySetUnavailableError) throw new DependencyUnavailableError('auth-keys', error.message, { cause: error });
    if (error instanceof AuthenticationError) throw new PermanentEventError(`purchase request's access token refused: ${error.message}`);
    throw error;
  }
  if (sender.role !== 'service' || !sender.scopes.includes(INITIATE_SCOPE)) {
    throw new PermanentEventError(`purchase request refused: its token (${describeActor(sender)}) is not an app backend's with ${INITIATE_SCOPE}`);
  }
  if (!mayInitiateInApp(sender, event.envelope.data.app)) {
    throw new PermanentEventError(
      `purchase request refused: its token acts for ${sender.app ? `the app "${sender.app}"` : 'no app'}; it cannot ask for a payment in "${event.envelope.data.app}"`,
    );
  }
  return describeActor(sender);
}
