import { Transform } from 'class-transformer';
import { CONSUMER_GROUP_ID_PATTERN, CONSUMER_GROUP_ID_RULE, TOPIC_NAME_PATTERN, TOPIC_NAME_RULE } from '@pay/contracts';
import { IsBoolean, IsIn, IsInt, Matches, Max, Min, ValidateIf } from 'class-validator';

/**
 * The one place strings from the environment (or a query string) become numbers and booleans.
 * Config classes use the decorators; code outside a config class (scripts that read one
 * variable) uses the parse functions, which throw with the variable's name.
 */

const WHOLE_NUMBER = /^\d+$/;
const FLAGS: Readonly<Record<string, boolean>> = { true: true, '1': true, false: false, '0': false };

/** `"42"` → 42; anything else is left as it is, for the validator to refuse. */
export function toWholeNumber(value: unknown): unknown {
  return typeof value === 'string' && WHOLE_NUMBER.test(value) ? Number(value) : value;
}

/** A comma-separated list, each part trimmed and empty ones dropped (`"a, b,,c"` → `['a', 'b', 'c']`); anything but a string is left for the validator. */
export function toList(value: unknown): unknown {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)
    : value;
}

/** Exactly `true`/`1` and `false`/`0`; anything else is left as it is, for the validator to refuse. */
export function toFlag(value: unknown): unknown {
  return typeof value === 'string' && Object.hasOwn(FLAGS, value) ? FLAGS[value] : value;
}

export interface WholeNumberRule {
  min: number;
  max?: number;
  /** What is counted, for the message: `seconds`, `milliseconds`, `minor units`... */
  unit?: string;
  /** `0` is also accepted and means "off" (the range applies to every other value). */
  zeroIsOff?: boolean;
  /** Replaces the generated message (`must be a whole number of <unit> from <min> to <max>`). */
  message?: string;
}

export function describeWholeNumber(rule: WholeNumberRule): string {
  if (rule.message !== undefined) return rule.message;
  const what = rule.unit === undefined ? 'a whole number' : `a whole number of ${rule.unit}`;
  const range = rule.max === undefined ? `of at least ${rule.min}` : `from ${rule.min} to ${rule.max}`;
  return rule.zeroIsOff ? `must be ${what}, 0 (off) or ${range.replace(/^from /, '')}` : `must be ${what} ${range}`;
}

/** A whole number within bounds, given as digits only (no sign, no decimals, no exponent). */
export function IsWholeNumber(rule: WholeNumberRule): PropertyDecorator {
  const message = describeWholeNumber(rule);
  const decorators: PropertyDecorator[] = [Transform(({ value }) => toWholeNumber(value)), IsInt({ message }), Min(rule.min, { message })];
  if (rule.max !== undefined) decorators.push(Max(rule.max, { message }));
  if (rule.zeroIsOff) decorators.push(ValidateIf((_object, value) => value !== 0));
  return (target, property) => decorators.forEach((decorate) => decorate(target, property));
}

/** A boolean written `true`, `false`, `1` or `0`; the property holds a boolean. */
export function IsFlag(): PropertyDecorator {
  const message = 'must be true or false (or 1 or 0)';
  const decorators: PropertyDecorator[] = [Transform(({ value }) => toFlag(value)), IsBoolean({ message })];
  return (target, property) => decorators.forEach((decorate) => decorate(target, property));
}

/** One of a fixed list of words. */
export function IsOneOf(values: readonly string[], message = `must be one of ${values.join(', ')}`): PropertyDecorator {
  return IsIn([...values], { message });
}

/** A Kafka topic name (libs/contracts' TOPIC_NAME_PATTERN). */
export function IsTopicName(): PropertyDecorator {
  return Matches(TOPIC_NAME_PATTERN, { message: `must be ${TOPIC_NAME_RULE}` });
}

/** A Kafka consumer group id, or the prefix of some (libs/contracts' CONSUMER_GROUP_ID_PATTERN). */
export function IsConsumerGroupId(): PropertyDecorator {
  return Matches(CONSUMER_GROUP_ID_PATTERN, { message: `must be ${CONSUMER_GROUP_ID_RULE}` });
}

/** Reads one flag outside a config class; unset or empty is `fallback`. */
export function parseFlag(name: string, raw: string | undefined, fallback: boolean): boolean {
  const text = raw?.trim();
  if (text === undefined || text === '') return fallback;
  const value = toFlag(text);
  if (typeof value !== 'boolean') throw new Error(`${name} must be true or false (or 1 or 0); got "${text}".`);
  return value;
}

/** Reads one whole number outside a config class; unset or empty is `fallback`. */
export function parseWholeNumber(name: string, raw: string | undefined, rule: WholeNumberRule & { fallback: number }): number {
  const text = raw?.trim();
  if (text === undefined || text === '') return rule.fallback;
  const value = toWholeNumber(text);
  const ok = typeof value === 'number' && ((rule.zeroIsOff === true && value === 0) || (value >= rule.min && (rule.max === undefined || value <= rule.max)));
  if (!ok) throw new Error(`${name} ${describeWholeNumber(rule)}; got "${text}".`);
  return value;
}
