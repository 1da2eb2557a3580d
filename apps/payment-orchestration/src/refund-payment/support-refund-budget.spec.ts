import { parseCurrencyAmounts } from './support-refund-budget';

describe('parseCurrencyAmounts (SUPPORT_REFUND_AMOUNT_PER_AGENT_PER_HOUR, SUPPORT_REFUND_AMOUNT_PER_HOUR)', () => {
  it('reads minor units per currency', () => {
    expect(parseCurrencyAmounts('EUR:50000, USD:0,GBP:123456789012345')).toEqual(
      new Map([
        ['EUR', 50_000],
        ['USD', 0],
        ['GBP', 123_456_789_012_345],
      ]),
    );
    expect(parseCurrencyAmounts('')).toEqual(new Map());
  });

  it('refuses what is not CURRENCY:minor-units, a currency given twice, and amounts not exact in the buckets (16 digits and more)', () => {
    expect(() => parseCurrencyAmounts('EUR:5.00')).toThrow('"EUR:5.00" is not CURRENCY:minor-units');
    expect(() => parseCurrencyAmounts('eur:500')).toThrow(/not CURRENCY:minor-units/);
    expect(() => parseCurrencyAmounts('EUR:-1')).toThrow(/not CURRENCY:minor-units/);
    expect(() => parseCurrencyAmounts('EUR:1234567890123456')).toThrow(/not CURRENCY:minor-units/);
    expect(() => parseCurrencyAmounts('EUR:1,EUR:2')).toThrow('EUR is given twice');
  });
});
