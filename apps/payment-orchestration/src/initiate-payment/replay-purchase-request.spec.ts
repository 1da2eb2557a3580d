import type { KafkaMessage } from 'kafkajs';
import { purchaseRequestReplay } from './replay-purchase-request';

const jwt = (claims: Record<string, unknown>): string =>
  `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
const letter = (headers: Record<string, string>): KafkaMessage => ({ headers, key: null, value: null, timestamp: '0', attributes: 0, offset: '0' });
const now = Date.parse('2026-12-06T10:00:00Z');
const operator = jwt({ sub: 'sre-1', role: 'operator', exp: now / 1000 + 600 });

describe('purchaseRequestReplay (dlq:replay for purchase requests)', () => {
  it("re-sends an attested letter with the operator's token and its attestation; lists the others for their app to resend", () => {
    const replayAs = purchaseRequestReplay(operator, now);
    expect(replayAs(letter({ 'sender-attestation': 'a.b.c', 'dlq-redacted': 'false' }))).toEqual({
      headers: { authorization: `Bearer ${operator}`, 'sender-attestation': 'a.b.c' },
    });
    expect(replayAs(letter({ 'dlq-redacted': 'false' }))).toEqual({ notReplayable: expect.stringMatching(/no sender-attestation.*app must send it again/) });
    expect(replayAs(letter({ 'sender-attestation': 'a.b.c', 'dlq-redacted': 'true' }))).toEqual({
      notReplayable: expect.stringMatching(/redacted.*app must send it again/),
    });
    // A dry run (no token) only sorts them.
    expect(purchaseRequestReplay(undefined, now)(letter({ 'sender-attestation': 'a.b.c' }))).toEqual({ headers: { 'sender-attestation': 'a.b.c' } });
  });

  it("refuses, before replaying anything, a token that is not an operator's or expires within a minute", () => {
    expect(() => purchaseRequestReplay('not-a-jwt', now)).toThrow(/must be a JWT/);
    expect(() => purchaseRequestReplay(jwt({ sub: 'instagram-backend', role: 'service', exp: now / 1000 + 600 }), now)).toThrow(/role is "service"/);
    expect(() => purchaseRequestReplay(jwt({ sub: 'sre-1', role: 'operator', exp: now / 1000 + 30 }), now)).toThrow(/expires within a minute/);
  });
});
