import 'reflect-metadata';
import { PurchaseRequestedV1 } from '../payments/purchase-requested';
import { EXAMPLES } from '../asyncapi/examples';
import { createEvent, InvalidEventError, parseEvent } from './event-registry';

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

  it('refuses what is not an object, unknown types and bad envelope fields, saying why', () => {
    expect(reasons('hello')).toEqual(['the message is not a JSON object']);
    expect(reasons({ ...example, type: 'payments.purchase.unknown' })).toEqual(['unknown event type payments.purchase.unknown version 1']);
    expect(reasons({ ...example, id: 'not-a-uuid', occurredAt: '2026-11-25T08:00:00+02:00' }).join(' ')).toMatch(/id must be a UUID.*occurredAt must be ISO-8601 in UTC/);
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
});
