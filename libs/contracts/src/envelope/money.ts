import { Type } from 'class-transformer';
import { IsISO4217CurrencyCode, IsString, Matches, ValidateNested } from 'class-validator';

/** Minor units as a decimal string: JSON has no 64-bit integers and floats lose cents. */
export const MINOR_UNITS_PATTERN = /^(0|[1-9][0-9]{0,17})$/;

export class Money {
  /** Integer minor units (cents for EUR/USD) as a string, e.g. "1250" for 12.50. */
  @IsString()
  @Matches(MINOR_UNITS_PATTERN, { message: 'amount must be a whole number of minor units written as a string, e.g. "1250"' })
  amount!: string;

  /** ISO-4217 code, upper case (the validator alone would also take "eur"). */
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO-4217 code such as EUR or USD' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO-4217 code such as EUR or USD' })
  currency!: string;
}

/** A property holding Money: built as a Money instance and validated whole (amount and currency). */
export function IsMoney(): PropertyDecorator {
  const type = Type(() => Money);
  const nested = ValidateNested();
  return (target, property) => {
    type(target, property);
    nested(target, property);
  };
}

export function toMinorUnits(money: Money): bigint {
  return BigInt(money.amount);
}

export function money(amount: bigint, currency: string): Money {
  if (amount < 0n) throw new RangeError(`amount must not be negative, got ${amount}`);
  const value = new Money();
  value.amount = amount.toString();
  value.currency = currency;
  return value;
}
