/**
 * `npm run dlq:replay` for purchase requests, through the running payment-orchestration: a request
 * whose sender verified is dead-lettered with orchestration's attestation of that sender (never the
 * token); one whose sender did not is not attested. The replay re-sends the attested one with an
 * operator's token, which orchestration takes for the attested sender (the letter dies again only
 * for its own fault, still attested), and lists the other for its app to resend. An operator's token
 * with another request's attestation, or with none, is dead-lettered for its sender.
 * (The accepted path after a fix: apps/payment-orchestration/src/initiate-payment/replay-purchase-request.int-spec.ts.)
 */
import { deadLetterTopicOf } from '@pay/contracts';
import { EventPublisher, replayDeadLetters } from '@pay/messaging';
import { purchaseRequestReplay } from '@pay/payment-orchestration/tools';
import { testKafka, waitFor } from '@pay/testing';
import type { PaymentsPlatform, TestPerson } from './e2e-kit';
import { purchaseOf, startPaymentsPlatform } from './e2e-kit';

jest.setTimeout(180_000);

let platform: PaymentsPlatform;
let payer: TestPerson;
let publisher: EventPublisher;

beforeAll(async () => {
  platform = await startPaymentsPlatform();
  payer = await platform.person({ apps: ['messenger', 'facebook'] });
  publisher = new EventPublisher(testKafka());
}, 180_000);

afterAll(async () => {
  await publisher?.disconnect();
  await platform?.stop();
});

/** What an attestation says (its payload; the signature is orchestration's to check). */
const attested = (jws: string): { sender: { sub: string; app?: string } } => JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString()) as never;

it("replays a dead-lettered purchase request for its attested sender, lists the unattested one, and dead-letters an operator's replay of another request's attestation", async () => {
  // messenger's backend sends a malformed request (dead-lettered after its sender verified); a request without a token.
  const malformed = await platform.publishPurchase(purchaseOf(payer, 500n, { app: 'messenger', amount: { amount: 'fifty', currency: 'USD' } }));
  const tokenless = await platform.publishPurchase(purchaseOf(payer, 500n, { app: 'messenger' }), { authorization: '' });
  const first = await waitFor(
    () => platform.deadLettersOf([malformed, tokenless]),
    (found) => found.size === 2,
    { what: 'both requests dead-lettered', timeoutMs: 60_000 },
  );
  const [malformedLetter] = first.get(malformed)!;
  expect(malformedLetter.reason).toMatch(/amount/);
  expect(malformedLetter.headers.authorization).toBeUndefined();
  const attestation = malformedLetter.headers['sender-attestation'];
  expect(attested(attestation).sender).toMatchObject({ sub: 'messenger-backend', app: 'messenger' });
  expect(first.get(tokenless)![0].headers['sender-attestation']).toBeUndefined();

  // The replay: the attested letter re-sent with the operator's token, the other listed.
  const deadLetterTopic = deadLetterTopicOf(platform.purchaseTopic);
  const operator = await platform.idp.signTestToken({ sub: 'sre-e2e', role: 'operator' });
  const dryRun = await replayDeadLetters({ kafka: testKafka(), publisher, deadLetterTopic, dryRun: true, replayAs: purchaseRequestReplay(undefined) });
  expect(dryRun).toMatchObject({ replayed: 1, notReplayed: [{ reason: expect.stringMatching(/app must send it again/) }] });
  const replay = await replayDeadLetters({ kafka: testKafka(), publisher, deadLetterTopic, replayAs: purchaseRequestReplay(operator) });
  expect(replay).toMatchObject({ replayed: 1, notReplayed: [{ deadLetteredFor: expect.stringMatching(/without its sender's access token/) }] });
  // Orchestration took the operator's replay for messenger's request: it dies again for its amount only, still attested, no token kept.
  const again = await waitFor(
    () => platform.deadLettersOf([malformed]),
    (found) => (found.get(malformed) ?? []).length === 2,
    { what: 'the replayed request judged again', timeoutMs: 60_000 },
  );
  const replayed = again.get(malformed)![1];
  expect(replayed.reason).toMatch(/amount/);
  expect(replayed.headers.authorization).toBeUndefined();
  expect(attested(replayed.headers['sender-attestation']).sender).toMatchObject({ sub: 'messenger-backend', app: 'messenger' });

  // An operator's token with messenger's attestation on a request of facebook's, or with none: dead-lettered for the sender.
  const asOperator = { authorization: `Bearer ${operator}` };
  const forged = {
    "another request's attestation": await platform.publishPurchase(purchaseOf(payer, 500n, { app: 'facebook' }), {
      ...asOperator,
      'sender-attestation': attestation,
    }),
    'no attestation': await platform.publishPurchase(purchaseOf(payer, 500n, { app: 'messenger' }), asOperator),
  };
  const refused = await waitFor(
    () => platform.deadLettersOf(Object.values(forged)),
    (found) => found.size === 2,
    { what: 'the forged replays dead-lettered', timeoutMs: 60_000 },
  );
  expect(refused.get(forged["another request's attestation"])![0].reason).toMatch(/its sender attestation is for another request/);
  expect(refused.get(forged['no attestation'])![0].reason).toMatch(/only with the "sender-attestation"/);
  for (const [letter] of refused.values()) expect(letter.headers['sender-attestation']).toBeUndefined();
  // Nothing was decided or written for any of them.
  const ids = [malformed, tokenless, ...Object.values(forged)];
  expect(await platform.orchestrationQuery('SELECT 1 FROM payments WHERE request_id = ANY($1::uuid[])', [ids])).toEqual([]);
});
