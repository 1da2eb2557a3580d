import { Writable } from 'node:stream';
import { createLogger } from '@pay/observability';
import { serviceLogs } from './service-logs';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('./service-logs')>('./service-logs').observabilityKeepingLogs());

describe('service logs kept for a leak scan', () => {
  beforeEach(() => serviceLogs.splice(0));

  it('keeps what the services log, scrubbed by the real logger', () => {
    createLogger('wallet', 'info').info({ paymentId: 'pay_1', note: 'paid with 4242 4242 4242 4242' }, 'captured');
    const kept = serviceLogs.join('');
    expect(kept).toContain('"service":"wallet"');
    expect(kept).toContain('pay_1');
    expect(kept).not.toContain('4242 4242 4242 4242');
  });

  it('leaves alone a logger given a destination of its own', () => {
    const own: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        own.push(chunk.toString());
        done();
      },
    });
    createLogger('support', 'info', destination).info('to its own destination');
    expect(own.join('')).toContain('to its own destination');
    expect(serviceLogs).toEqual([]);
  });
});
