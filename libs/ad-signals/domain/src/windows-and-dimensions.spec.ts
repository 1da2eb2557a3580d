import { AmountBuckets } from './amount-buckets';
import { ALL, dimensionsKey, parseGroupings, project } from './dimensions';
import { dims } from './__fixtures__/purchases';
import { hoursOfDay, windowNumber, windowOf, windowStarting } from './time-windows';
import { isWindowDue, watermarkEventTime, watermarkFrom } from './watermark';

describe('tumbling UTC windows', () => {
  it('puts a time in the hour and the day that hold it, [start, end)', () => {
    const at = Date.parse('2026-03-02T10:59:59.999Z');
    expect(windowOf('hour', at)).toEqual({ granularity: 'hour', start: Date.parse('2026-03-02T10:00:00Z'), end: Date.parse('2026-03-02T11:00:00Z') });
    expect(windowOf('day', at)).toEqual({ granularity: 'day', start: Date.parse('2026-03-02T00:00:00Z'), end: Date.parse('2026-03-03T00:00:00Z') });
    expect(windowOf('hour', Date.parse('2026-03-02T11:00:00Z')).start).toBe(Date.parse('2026-03-02T11:00:00Z'));
  });

  it('numbers windows from the epoch and splits a day into 24 hours', () => {
    expect(windowNumber(windowStarting('hour', 0))).toBe(1);
    expect(windowNumber(windowStarting('day', 86_400_000))).toBe(2);
    const hours = hoursOfDay(windowOf('day', Date.parse('2026-03-02T05:00:00Z')));
    expect(hours).toHaveLength(24);
    expect(hours[23].end).toBe(Date.parse('2026-03-03T00:00:00Z'));
    expect(() => windowStarting('day', Date.parse('2026-03-02T05:00:00Z'))).toThrow(/not the start of a day window/);
  });

  it('closes a window once the latest event time minus the grace period passes its end', () => {
    const end = Date.parse('2026-03-02T11:00:00Z');
    expect(isWindowDue(end, watermarkFrom(end + 14 * 60_000, 15 * 60_000))).toBe(false);
    expect(isWindowDue(end, watermarkFrom(end + 15 * 60_000, 15 * 60_000))).toBe(true);
    expect(isWindowDue(end, watermarkFrom(undefined, 0))).toBe(false);
  });

  it('does not let a future-dated event run the watermark ahead of the clock', () => {
    const now = Date.parse('2026-03-02T11:00:00Z');
    expect(watermarkEventTime(now + 86_400_000, now, 300_000)).toBe(now + 300_000);
    expect(watermarkEventTime(now - 1, now, 300_000)).toBe(now - 1);
  });
});

describe('dimensions, groupings and amount buckets', () => {
  it('always publishes the total first and accepts combinations', () => {
    expect(parseGroupings('country; app ;app+country;country+app')).toEqual([[], ['country'], ['app'], ['app', 'country']]);
    expect(() => parseGroupings('app;email')).toThrow(/unknown dimension email/);
  });

  it('projects a purchase onto a grouping, the rest becoming "all"', () => {
    const values = project(dims(), ['app']);
    expect(values).toEqual({ app: 'instagram', country: ALL, merchantCategory: ALL, paymentMethodType: ALL, amountBucket: ALL });
    expect(dimensionsKey(values)).toBe('app=instagram|country=*|merchantCategory=*|paymentMethodType=*|amountBucket=*');
  });

  it('buckets amounts and refuses boundaries that are not ascending whole minor units', () => {
    const buckets = AmountBuckets.parse('1000,5000');
    expect([0n, 999n, 1000n, 4999n, 5000n, 10n ** 15n].map((amount) => buckets.bucketOf(amount))).toEqual([
      '0-999',
      '0-999',
      '1000-4999',
      '1000-4999',
      '5000+',
      '5000+',
    ]);
    expect(buckets.labels()).toEqual(['0-999', '1000-4999', '5000+']);
    expect(() => AmountBuckets.parse('5000,1000')).toThrow(/ascending/);
    expect(() => AmountBuckets.parse('10.5')).toThrow(/positive whole number/);
  });
});
