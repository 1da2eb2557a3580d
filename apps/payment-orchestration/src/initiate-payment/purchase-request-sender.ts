import type { AccessTokenVerifier, Principal } from '@pay/auth';
import { AuthenticationError, describeActor, KeySetUnavailableError } from '@pay/auth';
import type { ConsumedEvent } from '@pay/messaging';
import { DependencyUnavailableError, headerText, PermanentEventError } from '@pay/messaging';
import type { KafkaMessage } from 'kafkajs';
import { mayInitiateInApp } from '../view-payment/payment-access';
import type { AttestedSender, SenderAttestations } from './sender-attestation';
import { AttestationRefused, SENDER_ATTESTATION_HEADER, sha256Of } from './sender-attestation';

/** The Kafka header that carries the sending app backend's access token: `Bearer <JWT>`, as over HTTP. */
export const PURCHASE_REQUEST_AUTHORIZATION_HEADER = 'authorization';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/** What a record tells of its sender: headers, timestamp and the value's bytes (a ConsumedEvent or a KafkaMessage). */
interface SenderRecord {
  headers?: KafkaMessage['headers'];
  timestamp?: string;
  value?: Buffer | null;
}

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
 *
 * A replay (`npm run dlq:replay`): an operator's token, and the `sender-attestation` this service
 * signed when it dead-lettered the request, for exactly this record's value. The attested sender is
 * then the sender, judged by the same rules; an operator's token without one, or with one for
 * another record or not signed by this service, is refused.
 * Answers what the rate limit is keyed by: `service:<subject>`.
 */
export async function authenticateSender(
  verifier: AccessTokenVerifier,
  event: ConsumedEvent<{ app: string }>,
  attestations?: SenderAttestations,
  now: number = Date.now(),
): Promise<string> {
  return describeActor((await senderOf(verifier, attestations, event, event.envelope.data.app, now)).sender);
}

/**
 * The headers a dead-lettered purchase request gets (InboxConsumerOptions.deadLetterHeaders): the
 * attestation of its sender when the sender is one `authenticateSender` takes — its token verifies
 * as an app backend's for the app the request names, or it is a replay whose attestation holds (a
 * replay that fails again keeps it, also when its token was wrong) — and none otherwise (such a
 * request must be sent again by its producer); an attestation of other bytes is never kept.
 */
export async function attestSenderOf(
  verifier: AccessTokenVerifier,
  attestations: SenderAttestations,
  message: SenderRecord,
  now: number = Date.now(),
): Promise<Record<string, string | undefined>> {
  const none = { [SENDER_ATTESTATION_HEADER]: undefined };
  let app: unknown;
  try {
    app = (JSON.parse(message.value?.toString('utf8') ?? '') as { data?: { app?: unknown } }).data?.app;
  } catch {
    return none;
  }
  if (typeof app !== 'string') return none;
  let known: { sender: Principal; verifiedAt: string };
  try {
    known = await senderOf(verifier, attestations, message, app, now);
  } catch (error) {
    if (!(error instanceof PermanentEventError || error instanceof DependencyUnavailableError)) throw error;
    // A replay re-sent with a wrong or expired token keeps the attestation it carries for exactly
    // these bytes: it still says who wrote them, and the request stays replayable.
    return (await carriedAttestation(attestations, message)) ?? none;
  }
  const { subject, role, scopes, app: senderApp } = known.sender;
  const attestation = await attestations.sign({
    sender: { subject, role, scopes, ...(senderApp ? { app: senderApp } : {}) },
    verifiedAt: known.verifiedAt,
    valueSha256: sha256Of(message.value),
  });
  return { [SENDER_ATTESTATION_HEADER]: attestation };
}

/** The record's own attestation, when it is one of ours for exactly its value. */
async function carriedAttestation(attestations: SenderAttestations, record: SenderRecord): Promise<Record<string, string> | undefined> {
  try {
    await attestedSender(attestations, record);
    return { [SENDER_ATTESTATION_HEADER]: headerText(record.headers, SENDER_ATTESTATION_HEADER)! };
  } catch (error) {
    if (error instanceof PermanentEventError) return undefined;
    throw error;
  }
}

/** The sender of a record: its token's holder, or for an operator's replay the attested sender; may it ask in `app`? */
async function senderOf(
  verifier: AccessTokenVerifier,
  attestations: SenderAttestations | undefined,
  record: SenderRecord,
  app: string,
  now: number,
): Promise<{ sender: Principal; verifiedAt: string }> {
  const holder = await tokenHolder(verifier, record.headers, record.timestamp, now);
  const known =
    holder.role === 'operator'
      ? await attestedSender(attestations, record)
      : { sender: holder, verifiedAt: new Date(judgedAt(record.timestamp, now)).toISOString() };
  return { sender: senderMayInitiate(known.sender, app), verifiedAt: known.verifiedAt };
}

function judgedAt(timestamp: string | undefined, now: number): number {
  const written = Number(timestamp);
  return Number.isFinite(written) && written > 0 ? Math.min(written, now) : now;
}

/** Whose token the record carries, verified as of the record's timestamp. */
async function tokenHolder(verifier: AccessTokenVerifier, headers: KafkaMessage['headers'], timestamp: string | undefined, now: number): Promise<Principal> {
  const header = headerText(headers, PURCHASE_REQUEST_AUTHORIZATION_HEADER);
  const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
  if (!token) {
    throw new PermanentEventError(
      `purchase request without its sender's access token: the "${PURCHASE_REQUEST_AUTHORIZATION_HEADER}" header must hold "Bearer <JWT>", an app backend's token with ${INITIATE_SCOPE}`,
    );
  }
  try {
    return await verifier.verify(token, judgedAt(timestamp, now));
  } catch (error) {
    if (error instanceof KeySetUnavailableError) throw new DependencyUnavailableError('auth-keys', error.message, { cause: error });
    if (error instanceof AuthenticationError) throw new PermanentEventError(`purchase request's access token refused: ${error.message}`);
    throw error;
  }
}

/** A replay: the sender this service attested for exactly this record's value. */
async function attestedSender(attestations: SenderAttestations | undefined, record: SenderRecord): Promise<{ sender: Principal; verifiedAt: string }> {
  const header = headerText(record.headers, SENDER_ATTESTATION_HEADER);
  if (!attestations || !header) {
    throw new PermanentEventError(
      `purchase request refused: an operator's token replays a purchase request only with the "${SENDER_ATTESTATION_HEADER}" payment-orchestration gave its dead letter`,
    );
  }
  let attested: AttestedSender;
  try {
    attested = await attestations.verify(header);
  } catch (error) {
    if (error instanceof AttestationRefused) throw new PermanentEventError(`purchase request refused: ${error.message}`);
    throw error;
  }
  if (attested.valueSha256 !== sha256Of(record.value)) {
    throw new PermanentEventError('purchase request refused: its sender attestation is for another request (the value differs from the one attested)');
  }
  return { sender: attested.sender, verifiedAt: attested.verifiedAt };
}

function senderMayInitiate(sender: Principal, app: string): Principal {
  if (sender.role !== 'service' || !sender.scopes.includes(INITIATE_SCOPE)) {
    throw new PermanentEventError(`purchase request refused: its token (${describeActor(sender)}) is not an app backend's with ${INITIATE_SCOPE}`);
  }
  if (!mayInitiateInApp(sender, app)) {
    throw new PermanentEventError(
      `purchase request refused: its token acts for ${sender.app ? `the app "${sender.app}"` : 'no app'}; it cannot ask for a payment in "${app}"`,
    );
  }
  return sender;
}
