import 'reflect-metadata';
import { PurchaseRequestedV1 } from '../payments/purchase-requested';
import { EXAMPLES } from '../asyncapi/examples';
import { createEvent, describeInvalidEvent, INVALID_EVENT_MESSAGE_MAX, InvalidEventError, outgoingEventsAreValidated, parseEvent } from './event-registry';

const example = EXAMPLES['payments.purchase.requested'] as Record<string, unknown> & { data: Record<string, unknown> };

function reasons(raw: unknown): string[] {
  try {
    parseEvent(raw);
  } catch (error) {
    if (error instanceof InvalidEventError) return error.reasons;
    throw error;
  }
  return [];
}

describe('event envelope', () => {
  it('accepts a valid purchase request and types its data', () => {
    const event = parseEvent(example);
    expect(event.data).toMatchObject({ kind: 'purchase', amount: { amount: '1250', currency: 'EUR' } });
  });

  it('reads a purchase request that still names its payer personId (the former name) as payerId', () => {
    const { payerId, ...data } = example.data as { payerId: string };
    expect(parseEvent({ ...example, data: { ...data, personId: payerId } }).data).toMatchObject({ payerId });
    expect(parseEvent({ ...example, data: { ...data, payerId, personId: 'someone-else' } }).data).toMatchObject({ payerId });
    expect(reasons({ ...example, data }).join()).toMatch(/data\.payerId: payerId must be 1 to 100/);
  });

  it('refuses what is not an object, unknown types and bad envelope fields, saying why', () => {
    expect(reasons('hello')).toEqual(['the message is not a JSON object']);
    expect(reasons({ ...example, type: 'payments.purchase.unknown' })).toEqual(['unknown event type payments.purchase.unknown version 1']);
    expect(reasons({ ...example, id: 'not-a-uuid', occurredAt: '2026-11-25T08:00:00+02:00' }).join(' ')).toMatch(
      /id must be a UUID.*occurredAt must be ISO-8601 in UTC/,
    );
  });

  it("names every problem at once, the envelope's and the data's, in a bounded message", () => {
    const raw = {
      ...example,
      subject: '',
      occurredAt: 'yesterday',
      data: { ...example.data, kind: 'gift', app: 'myspace', amount: { amount: 12.5, currency: 'eur' } },
    };
    const found = reasons(raw);
    for (const field of ['subject', 'occurredAt', 'data.kind', 'data.app', 'data.amount.amount', 'data.amount.currency'])
      expect(found.some((reason) => reason.startsWith(`${field}: `))).toBe(true);
    let message = '';
    try {
      parseEvent(raw);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(new RegExp(`^invalid event \\(${found.length} problems\\): subject: `));
    for (const reason of found) expect(message).toContain(reason);

    const many = Array.from({ length: 200 }, (_, index) => `data.items[${index}].name: name must be shorter than or equal to 40 characters`);
    const bounded = describeInvalidEvent(many);
    expect(bounded.length).toBeLessThanOrEqual(INVALID_EVENT_MESSAGE_MAX);
    expect(bounded).toMatch(/^invalid event \(200 problems\): data\.items\[0\]\.name: .*; … and \d+ more$/);
    const named = bounded.split('; ').filter((part) => part.includes('name must')).length;
    expect(bounded).toContain(`… and ${200 - named} more`);
    expect(describeInvalidEvent(['a: wrong'])).toBe('invalid event (1 problem): a: wrong');
  });

  it('refuses floating-point or negative amounts and lower-case currencies', () => {
    const withAmount = (amount: unknown, currency = 'EUR') => ({ ...example, data: { ...example.data, amount: { amount, currency } } });
    expect(reasons(withAmount('12.50')).join()).toMatch(/data\.amount\.amount: amount must be a whole number of minor units/);
    expect(reasons(withAmount(1250)).join()).toMatch(/data\.amount\.amount/);
    expect(reasons(withAmount('-5')).join()).toMatch(/data\.amount\.amount/);
    expect(reasons(withAmount('5', 'eur')).join()).toMatch(/currency must be an ISO-4217 code/);
  });

  it('refuses unknown fields, so a typo is not silently dropped', () => {
    expect(reasons({ ...example, data: { ...example.data, amout: '5' } }).join()).toMatch(/property amout should not exist/);
  });

  it('validates on the way out: createEvent refuses data its consumers would refuse', () => {
    const data = { ...(example.data as object), kind: 'gift' } as never;
    expect(() => createEvent({ definition: PurchaseRequestedV1, source: 'app', subject: 's-1', sequence: 1, data })).toThrow(InvalidEventError);
    const ok = createEvent({ definition: PurchaseRequestedV1, source: 'app', subject: 's-1', sequence: 1, data: example.data as never });
    expect(ok).toMatchObject({ type: 'payments.purchase.requested', version: 1, subject: 's-1' });
    expect(ok.occurredAt).toMatch(/Z$/);
  });

  it('does not validate again in production what typed code built; consumers still refuse it', () => {
    const saved = { jest: process.env.JEST_WORKER_ID, env: process.env.NODE_ENV };
    const data = { ...(example.data as object), kind: 'gift' } as never;
    try {
      delete process.env.JEST_WORKER_ID;
      process.env.NODE_ENV = 'production';
      expect(outgoingEventsAreValidated()).toBe(false);
      const built = createEvent({ definition: PurchaseRequestedV1, source: 'app', subject: 's-1', sequence: 1, data });
      expect(built).toMatchObject({ type: 'payments.purchase.requested', data: { kind: 'gift' } });
      expect(() => parseEvent(JSON.parse(JSON.stringify(built)))).toThrow(InvalidEventError);
    } finally {
      process.env.JEST_WORKER_ID = saved.jest;
      if (saved.env === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved.env;
    }
    expect(outgoingEventsAreValidated()).toBe(true);
  });
});
