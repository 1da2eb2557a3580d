import type { ValidatorOptions } from 'class-validator';
import type { ConstraintMetadata, ValidationMetadata } from './class-validator-internals';
import { metadataStorageInternals } from './class-validator-internals';
import { installValidationMetadataCache, validationMetadataGeneration } from './validation-metadata-cache';

/**
 * A fast "yes" for class-validator's `validateSync`: `provenValid(object, options)` is true only
 * when `validateSync(object, options)` would return no errors, and false when it would return
 * some OR when the object meets anything this does not mirror (then the caller asks class-validator,
 * which also writes the messages). It runs class-validator's own metadata and constraint instances
 * (`instance.validate(value, args)`), in the order ValidationExecutor runs them
 * (execute → whitelist → performValidations → conditional, custom, nested), without building a
 * ValidationError per property: in the consumers' profiles that bookkeeping, not the checks, was
 * most of class-validator's cost. Plans are compiled per class and forgotten whenever a decorator
 * or constraint registers (validationMetadataGeneration).
 *
 * Mirrored: whitelist (strip or forbid), forbidUnknownValues, skipMissingProperties false,
 * @IsDefined, custom constraints (every built-in decorator is one) with `each` and `validateIf`,
 * @IsOptional/@ValidateIf, @ValidateNested over objects, arrays, Sets and Maps. Not mirrored, so
 * always "ask class-validator": any other option, groups, @ValidatePromise, async constraints, a
 * constraint that answers with a promise, metadata of a type class-validator may add later.
 */

// ValidationTypes' values (class-validator/cjs/validation/ValidationTypes.js).
const CUSTOM = 'customValidation';
const NESTED = 'nestedValidation';
const CONDITIONAL = 'conditionalValidation';
const WHITELIST = 'whitelistValidation';
const IS_DEFINED = 'isDefined';
const SUPPORTED_TYPES = new Set([CUSTOM, NESTED, CONDITIONAL, WHITELIST, IS_DEFINED]);

interface CustomCheck {
  metadata: ValidationMetadata;
  constraints: ConstraintMetadata[];
}
interface PropertyPlan {
  name: string;
  defined: CustomCheck[];
  custom: CustomCheck[];
  nested: ValidationMetadata[];
  conditional: ValidationMetadata[];
}
/** One class's compiled rules; `unknown` when class-validator knows no rule for it (forbidUnknownValues refuses it). */
type ClassPlan =
  { kind: 'unknown' } | { kind: 'unsupported' } | { kind: 'rules'; grouped: Record<string, ValidationMetadata[] | undefined>; properties: PropertyPlan[] };

interface Mode {
  /** whitelist: true and forbidNonWhitelisted: true (refuse) or false (strip). */
  forbidNonWhitelisted: boolean;
}

let plansGeneration = -1;
let plans = new Map<unknown, Map<string | undefined, ClassPlan>>();

function compile(target: object, targetSchema: string | undefined): ClassPlan {
  const metadataStorage = metadataStorageInternals();
  // The arguments ValidationExecutor.execute passes without groups, strictGroups or always.
  const metadatas = metadataStorage.getTargetValidationMetadatas(target, targetSchema, false, false, undefined);
  if (metadatas.length === 0) return { kind: 'unknown' };
  for (const metadata of metadatas) {
    if (!SUPPORTED_TYPES.has(metadata.type) || (metadata.groups !== undefined && metadata.groups.length > 0)) return { kind: 'unsupported' };
  }
  const grouped = metadataStorage.groupByPropertyName(metadatas);
  const checks = (list: ValidationMetadata[]): CustomCheck[] | undefined => {
    const compiled: CustomCheck[] = [];
    for (const metadata of list) {
      const constraints = metadataStorage.getTargetValidatorConstraints(metadata.constraintCls);
      if (constraints.some((constraint) => constraint.async)) return undefined;
      compiled.push({ metadata, constraints });
    }
    return compiled;
  };
  const properties: PropertyPlan[] = [];
  for (const name of Object.keys(grouped)) {
    const all = grouped[name] ?? [];
    const defined = checks(all.filter((metadata) => metadata.type === IS_DEFINED));
    const rest = all.filter((metadata) => metadata.type !== IS_DEFINED && metadata.type !== WHITELIST);
    const custom = checks(rest.filter((metadata) => metadata.type === CUSTOM));
    if (!defined || !custom) return { kind: 'unsupported' };
    properties.push({
      name,
      defined,
      custom,
      nested: rest.filter((metadata) => metadata.type === NESTED),
      conditional: rest.filter((metadata) => metadata.type === CONDITIONAL),
    });
  }
  return { kind: 'rules', grouped, properties };
}

function planOf(target: object, targetSchema: string | undefined): ClassPlan {
  const generation = validationMetadataGeneration();
  if (generation !== plansGeneration) {
    plans = new Map();
    plansGeneration = generation;
  }
  let forTarget = plans.get(target);
  if (!forTarget) plans.set(target, (forTarget = new Map<string | undefined, ClassPlan>()));
  let plan = forTarget.get(targetSchema);
  if (!plan) forTarget.set(targetSchema, (plan = compile(target, targetSchema)));
  return plan;
}

const isPromise = (value: unknown): boolean => value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';

/** ValidationExecutor.customValidations: true when no constraint fails (and none answers with a promise). */
function customValid(object: object, value: unknown, checks: CustomCheck[]): boolean {
  if (checks.length === 0) return true;
  const owner = (object as { constructor?: { name: string } }).constructor;
  const targetName = owner ? owner.name : undefined;
  const many = Array.isArray(value) || value instanceof Set || value instanceof Map;
  for (const { metadata, constraints } of checks) {
    if (metadata.validateIf && !metadata.validateIf(object, value)) continue;
    for (const constraint of constraints) {
      // A new one per call, as the executor makes: a constraint may keep or change it.
      const args = {
        targetName,
        property: metadata.propertyName,
        object,
        value,
        constraints: metadata.constraints,
      };
      if (!metadata.each || !many) {
        const result = constraint.instance.validate(value, args);
        if (isPromise(result) || !result) return false;
        continue;
      }
      const items: unknown[] = Array.isArray(value) ? value : Array.from((value as Set<unknown> | Map<unknown, unknown>).values());
      for (const item of items) {
        const result = constraint.instance.validate(item, args);
        if (isPromise(result) || !result) return false;
      }
    }
  }
  return true;
}

/** ValidationExecutor.performValidations, answering only "no error anywhere below". */
function propertyValid(
  object: object,
  value: unknown,
  defined: CustomCheck[],
  custom: CustomCheck[],
  nested: ValidationMetadata[],
  conditional: ValidationMetadata[],
  mode: Mode,
): boolean {
  if (conditional.length > 0) {
    // Every condition is asked, as the executor asks them (map, then reduce).
    const conditions = conditional.map((metadata) => (metadata.constraints[0] as (o: object, v: unknown) => unknown)(object, value));
    if (!conditions.every(Boolean)) return true;
  }
  if (!customValid(object, value, defined)) return false;
  // skipUndefinedProperties, skipNullProperties and skipMissingProperties are off.
  if (!customValid(object, value, custom)) return false;
  return nestedValid(value, nested, mode);
}

/** ValidationExecutor.nestedValidations. */
function nestedValid(value: unknown, nested: ValidationMetadata[], mode: Mode): boolean {
  if (value === undefined) return true;
  for (const metadata of nested) {
    if (Array.isArray(value)) {
      // A hole (which forEach skips) reads as undefined here, which nestedValid accepts as the executor does.
      for (let index = 0; index < value.length; index += 1) {
        if (!propertyValid(value, value[index], [], [], nested, [], mode)) return false;
      }
    } else if (value instanceof Set || value instanceof Map) {
      for (const item of value.values()) {
        if (!propertyValid(value, item, [], [], nested, [], mode)) return false;
      }
    } else if (value instanceof Object) {
      const targetSchema = typeof metadata.target === 'string' ? metadata.target : metadata.target.name;
      if (!objectValid(value, targetSchema, mode)) return false;
    } else {
      return false;
    }
  }
  return true;
}

/** ValidationExecutor.execute (with whitelist and forbidUnknownValues on). `skip`: a top-level property whose errors the caller discards. */
function objectValid(object: object, targetSchema: string | undefined, mode: Mode, skip?: string): boolean {
  const target = (object as { constructor?: unknown }).constructor;
  if (typeof target !== 'function') return false;
  const plan = planOf(target, targetSchema);
  if (plan.kind !== 'rules') return false;
  const { grouped } = plan;
  for (const name of Object.keys(object)) {
    // The executor's own test, on the same object: `!grouped[name] || grouped[name].length === 0`.
    const rules = grouped[name];
    if (!rules || rules.length === 0) {
      if (mode.forbidNonWhitelisted) return false;
      delete (object as Record<string, unknown>)[name];
    }
  }
  for (const property of plan.properties) {
    if (property.name === skip) continue;
    const value = (object as Record<string, unknown>)[property.name];
    if (!propertyValid(object, value, property.defined, property.custom, property.nested, property.conditional, mode)) return false;
  }
  return true;
}

const MIRRORED_OPTIONS = new Set(['whitelist', 'forbidNonWhitelisted', 'forbidUnknownValues', 'skipMissingProperties']);

function modeOf(options: ValidatorOptions): Mode | undefined {
  for (const [key, value] of Object.entries(options)) {
    if (!MIRRORED_OPTIONS.has(key)) return undefined;
    if (key === 'skipMissingProperties' && value !== false) return undefined;
  }
  if (options.whitelist !== true || options.forbidUnknownValues === false) return undefined;
  return { forbidNonWhitelisted: options.forbidNonWhitelisted === true };
}

/**
 * True only when `validateSync(object, options)` would return no errors (it may strip properties
 * as whitelist does); false: invalid, or not mirrored here, ask class-validator. `skipProperty`:
 * a top-level property whose errors the caller filters out of validateSync's answer anyway.
 */
export function provenValid(object: object, options: ValidatorOptions, skipProperty?: string): boolean {
  installValidationMetadataCache();
  // Read on every call, not kept: an options object may change between calls.
  const mode = modeOf(options);
  return mode !== undefined && objectValid(object, undefined, mode, skipProperty);
}
