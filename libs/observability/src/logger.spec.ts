import { context, trace } from '@opentelemetry/api';
import { capture } from './test/captured-lines';
import { createLogger } from './logger';
import { startTelemetry } from './telemetry';

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

  it('scrubs format arguments of every type and the headers pino knows', () => {
    const { lines, stream } = capture();
    const log = createLogger('wallet', 'info', stream);
    log.info('saved %o for %s', { pspToken: 'tok_abcdef123', holderName: 'Ana Lima' }, 'ana@example.com');
    log.info({ req: { headers: { authorization: 'Bearer eyJabc.def.ghi' } } }, 'request');
    const output = lines.join('');
    expect(output).not.toMatch(/tok_abcdef|Ana Lima|ana@example|eyJabc/);
  });

  it('names the active trace and span, so a log line leads to its trace', async () => {
    // The SDK registers the context manager that makes a span active.
    const telemetry = startTelemetry({ service: 'logger-test' });
    const { lines, stream } = capture();
    const log = createLogger('wallet', 'info', stream);
    // A span context whose ids hold a Luhn-valid 16-digit run: scrubbing must not touch ids.
    const spanContext = { traceId: '4242424242424242abcdef0123456789', spanId: '00f067aa0ba902b7', traceFlags: 1 };
    context.with(trace.setSpanContext(context.active(), spanContext), () => log.info('inside'));
    log.info('outside');
    expect(JSON.parse(lines[0])).toMatchObject({ trace_id: spanContext.traceId, span_id: spanContext.spanId });
    expect(JSON.parse(lines[1])).not.toHaveProperty('trace_id');
    await telemetry.shutdown();
  });

  it('scrubs anything logged under req or res that is not a request or an answer, as any other object', () => {
    const { lines, stream } = capture();
    const log = createLogger('wallet', 'info', stream);
    log.info({ req: { headers: { authorization: 'Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl' }, note: 'ana@example.com' }, res: 'paid by 4242424242424242' });
    expect(lines[0]).not.toMatch(/eyJhbGciOi|ana@example|4242424242424242/);
    expect(JSON.parse(lines[0])).toMatchObject({ req: { note: '[REDACTED:email]' }, res: 'paid by [REDACTED:card]' });
  });
});
