import type { IncomingMessage } from 'node:http';
import { clientAddress, trustedProxies } from './bank-mandate';

/** A request as the hub's server sees it: the socket's peer and the X-Forwarded-For header. */
const from = (peer: string, forwardedFor?: string): IncomingMessage =>
  ({ socket: { remoteAddress: peer }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe("the address a mandate's acceptance is recorded with", () => {
  const ingress = trustedProxies('10.0.0.0/8, 192.0.2.10');

  it('is the socket peer when no proxy is trusted: a client cannot state its address in X-Forwarded-For', () => {
    expect(clientAddress(from('198.51.100.7', '203.0.113.1'), undefined)).toBe('198.51.100.7');
    expect(clientAddress(from('::ffff:198.51.100.7'), undefined)).toBe('198.51.100.7');
  });

  it('is the socket peer when the peer is not a trusted proxy, whatever the header says', () => {
    expect(clientAddress(from('198.51.100.7', '203.0.113.1'), ingress)).toBe('198.51.100.7');
  });

  it('is the first address, from the right, that no trusted proxy owns: entries the client wrote are never believed', () => {
    expect(clientAddress(from('10.1.2.3', '203.0.113.1, 198.51.100.23'), ingress)).toBe('198.51.100.23');
    expect(clientAddress(from('10.1.2.3', '198.51.100.23, 192.0.2.10'), ingress)).toBe('198.51.100.23');
    expect(clientAddress(from('10.1.2.3', '10.9.9.9'), ingress)).toBe('10.9.9.9');
  });

  it('is nothing when a trusted hop is malformed (nothing recorded rather than a guess)', () => {
    expect(clientAddress(from('10.1.2.3', '198.51.100.23, not-an-address'), ingress)).toBeUndefined();
  });

  it('refuses a proxy list that is not addresses or ranges', () => {
    expect(() => trustedProxies('ingress.local')).toThrow(/HUB_TRUSTED_PROXIES/);
    expect(trustedProxies('')).toBeUndefined();
    expect(trustedProxies('none')).toBeUndefined();
  });
});
