import { normalizeInstant } from './projectable-event';

describe('normalizeInstant', () => {
  it('gives what toISOString gives, whether the instant is already in that spelling or not', () => {
    const instants = [
      '2026-12-06T21:04:05.123Z',
      '2024-02-29T23:59:59.999Z',
      '2000-02-29T00:00:00.000Z',
      '0001-01-01T00:00:00.000Z',
      '2026-12-06T22:04:05.123+01:00',
      '2026-12-06T21:04:05Z',
      '2026-12-06T21:04:05.1234Z',
      '2026-12-06T24:00:00.000Z',
      '2026-12-06',
    ];
    for (const instant of instants) expect([instant, normalizeInstant(instant)]).toEqual([instant, new Date(instant).toISOString()]);
  });

  it('refuses what names no instant, as Date does', () => {
    for (const instant of [
      '2025-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00.000Z',
      '2026-13-01T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-12-06T21:04:05.12aZ',
      '2026-1a-06T21:04:05.123Z',
      '2026-12-06 21:04:05.123Z',
      'soon',
    ]) {
      if (Number.isNaN(new Date(instant).getTime())) expect(() => normalizeInstant(instant)).toThrow(/not an ISO-8601 instant/);
      else expect(normalizeInstant(instant)).toBe(new Date(instant).toISOString());
    }
  });
});
