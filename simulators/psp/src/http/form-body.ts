/**
 * Parses a body the way Stripe's API reads the SDK's form encoding: `a[b][c]=v` is a nested
 * object, `a[0]=v` an array item, a bare key a string. Values stay strings, as Stripe receives
 * them; each handler converts and validates what it reads.
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

const KEY = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;

export class FormBodyError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'FormBodyError';
  }
}

export function parseFormBody(body: string): FormObject {
  const root: FormObject = Object.create(null) as FormObject;
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const match = KEY.exec(rawKey);
    if (!match) throw new FormBodyError(rawKey, `Invalid parameter name: ${rawKey}`);
    const path = [match[1], ...[...match[2].matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1])];
    assign(root, path, value, rawKey);
  }
  return toArrays(root) as FormObject;
}

function assign(root: FormObject, path: string[], value: string, rawKey: string): void {
  let node: FormObject = root;
  for (let i = 0; i < path.length - 1; i += 1) {
    const segment = path[i];
    if (segment === '__proto__' || segment === 'constructor' || segment === 'prototype') throw new FormBodyError(rawKey, `Invalid parameter name: ${rawKey}`);
    const next = node[segment];
    if (next === undefined) {
      const child = Object.create(null) as FormObject;
      node[segment] = child;
      node = child;
    } else if (typeof next === 'object' && !Array.isArray(next)) {
      node = next;
    } else {
      throw new FormBodyError(rawKey, `Parameter ${rawKey} mixes a value and a hash`);
    }
  }
  const last = path[path.length - 1];
  if (last === '__proto__' || last === 'constructor' || last === 'prototype') throw new FormBodyError(rawKey, `Invalid parameter name: ${rawKey}`);
  node[last] = value;
}

/** Objects whose keys are exactly 0..n-1 were arrays in the SDK's encoding. */
function toArrays(value: FormValue): FormValue {
  if (typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted = Object.create(null) as FormObject;
  for (const key of keys) converted[key] = toArrays(value[key]);
  if (keys.length > 0 && keys.every((key, index) => key === String(index))) return keys.map((key) => converted[key]);
  return converted;
}

/** The request's parameters in a canonical form: equal params give equal fingerprints whatever their order. */
export function fingerprintOf(params: FormValue): string {
  if (typeof params === 'string') return JSON.stringify(params);
  if (Array.isArray(params)) return `[${params.map(fingerprintOf).join(',')}]`;
  return `{${Object.keys(params)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${fingerprintOf(params[key])}`)
    .join(',')}}`;
}
