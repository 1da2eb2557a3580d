import type { FormObject, FormValue } from './form-body';
import { invalidRequest, missingParam } from './stripe-error';

/** Stripe's largest amount for most currencies: eight digits of minor units. */
export const MAX_STRIPE_AMOUNT = 99_999_999;

export function optionalString(params: FormObject, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw invalidRequest(`Invalid string: ${name}`, { code: 'parameter_invalid_string', param: name });
  return value;
}

export function requiredString(params: FormObject, name: string): string {
  const value = optionalString(params, name);
  if (value === undefined) throw missingParam(name);
  return value;
}

export function optionalBoolean(params: FormObject, name: string): boolean | undefined {
  const value = optionalString(params, name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw invalidRequest(`Invalid boolean: ${value}`, { code: 'parameter_invalid_boolean', param: name });
  return value === 'true';
}

export function optionalAmount(params: FormObject, name: string): number | undefined {
  const value = optionalString(params, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,12}$/.test(value)) throw invalidRequest(`Invalid integer: ${value}`, { code: 'parameter_invalid_integer', param: name });
  const amount = Number(value);
  if (amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', { code: 'amount_too_small', param: name });
  if (amount > MAX_STRIPE_AMOUNT) throw invalidRequest(`Amount must be no more than ${MAX_STRIPE_AMOUNT}`, { code: 'amount_too_large', param: name });
  return amount;
}

export function requiredAmount(params: FormObject, name: string): number {
  const amount = optionalAmount(params, name);
  if (amount === undefined) throw missingParam(name);
  return amount;
}

export function oneOf<T extends string>(params: FormObject, name: string, allowed: readonly T[]): T | undefined {
  const value = optionalString(params, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidRequest(`Invalid ${name}: must be one of ${allowed.join(', ')}`, { code: 'parameter_invalid_string', param: name });
  }
  return value as T;
}

/** `metadata[key]=value` pairs; an empty value unsets the key, as on Stripe. */
export function metadataOf(params: FormObject): Record<string, string> {
  const value: FormValue | undefined = params.metadata;
  if (value === undefined || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest('Invalid metadata: must be a hash', { param: 'metadata' });
  const metadata: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw invalidRequest(`Invalid metadata[${key}]: must be a string`, { param: `metadata[${key}]` });
    if (item !== '') metadata[key] = item;
  }
  return metadata;
}
