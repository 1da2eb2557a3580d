import { context, propagation, trace } from '@opentelemetry/api';
import { startTelemetry, tracer } from './telemetry';

/** Without an exporter nothing is recorded, yet the trace still propagates (W3C headers, log fields). */
describe('startTelemetry without an exporter', () => {
  const telemetry = startTelemetry({ service: 'telemetry-test' });

  afterAll(() => telemetry.shutdown());

  it('makes spans that are not recorded but carry a valid trace, continued by their children and headers', () => {
    const parent = tracer('test').startSpan('parent');
    expect(parent.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(parent.spanContext())).toBe(true);
    const active = trace.setSpan(context.active(), parent);
    const child = tracer('test').startSpan('child', {}, active);
    expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(active, child), carrier);
    expect(carrier.traceparent).toBe(`00-${parent.spanContext().traceId}-${child.spanContext().spanId}-00`);
    child.end();
    parent.end();
  });
});
