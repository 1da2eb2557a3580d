import { Writable } from 'node:stream';
import { createLogger } from './logger';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes JSON with the service name and no sensitive data in objects or messages', () => {
    const { lines, stream } = capture();
    const log = createLogger('wallet', 'info', stream);
    log.info({ card: { number: '4242424242424242' }, note: 'mail me at ana@example.com' }, 'paid with 4242 4242 4242 4242');
    log.error({ err: new Error('IBAN DE89370400440532013000 refused') }, 'failed');
    const output = lines.join('');
    expect(JSON.parse(lines[0])).toMatchObject({ service: 'wallet', level: 'info' });
    expect(output).not.toMatch(/4242|ana@example|DE89/);
    expect(output).toContain('[REDACTED:card]');
  });
});
