import { plainToInstance } from 'class-transformer';
import type { ValidationArguments, ValidatorConstraintInterface } from 'class-validator';
import { getMetadataStorage, validateSync, ValidationTypes } from 'class-validator';
import { flattenValidationErrors } from '@pay/contracts';

export type ChatRefusal = { ok: false; code: string; message: string; details?: string[] };
export type ChatAck<T extends object = Record<string, unknown>> = ({ ok: true } & T) | ChatRefusal;

/** Validates a client's WebSocket payload: the instance, or the refusal to acknowledge with. */
export function parseChatMessage<T extends object>(type: new () => T, body: unknown): T | ChatRefusal {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, code: 'INVALID_MESSAGE', message: 'the payload must be a JSON object' };
  const value = plainToInstance(type, body);
  // Valid payloads (nearly all) pass the class's own rules without class-validator's error report;
  // anything else goes through validateSync for the refusal's details.
  if (passesRules(type, value) === true) return value;
  const problems = flattenValidationErrors(validateSync(value, { whitelist: true, forbidNonWhitelisted: true }));
  if (problems.length > 0) return { ok: false, code: 'INVALID_MESSAGE', message: 'the payload is not valid', details: problems };
  return value;
}

interface PropertyRules {
  property: string;
  /** @IsOptional / @ValidateIf: the property's rules apply only when every one holds. */
  conditions: Array<(object: object, value: unknown) => boolean>;
  rules: Array<{ constraints: unknown[]; validators: ValidatorConstraintInterface[] }>;
}

type CompiledRules = { allowed: ReadonlySet<string>; properties: PropertyRules[] } | null;

const compiled = new Map<abstract new () => object, CompiledRules>();

/**
 * Whether `value` passes every decorator of its class, as validateSync with `whitelist` and
 * `forbidNonWhitelisted` would decide: the same rules, from class-validator's metadata storage,
 * gathered once per class instead of at every call (the flood's profile put validateSync at ~9%
 * of an instance's CPU, issue 18). Undefined when the class has rules this does not run (nested,
 * `each`, async, `@IsDefined`, groups): validateSync decides then.
 */
export function passesRules(type: abstract new () => object, value: object): boolean | undefined {
  let rules = compiled.get(type);
  if (rules === undefined) {
    rules = compileRules(type);
    compiled.set(type, rules);
  }
  if (rules === null) return undefined;
  for (const key of Object.keys(value)) if (!rules.allowed.has(key)) return false;
  const record = value as Record<string, unknown>;
  for (const { property, conditions, rules: checks } of rules.properties) {
    const propertyValue = record[property];
    if (!conditions.every((condition) => condition(value, propertyValue))) continue;
    for (const { constraints, validators } of checks) {
      const args: ValidationArguments = { targetName: type.name, property, object: value, value: propertyValue, constraints };
      for (const validator of validators) if (validator.validate(propertyValue, args) !== true) return false;
    }
  }
  return true;
}

function compileRules(type: abstract new () => object): CompiledRules {
  const storage = getMetadataStorage();
  // As ValidationExecutor asks for them with no groups, `always` or `strictGroups`.
  const metadatas = storage.getTargetValidationMetadatas(type, '', false, false, undefined);
  if (metadatas.length === 0) return null;
  const byProperty = new Map<string, PropertyRules>();
  for (const metadata of metadatas) {
    const property = byProperty.get(metadata.propertyName) ?? { property: metadata.propertyName, conditions: [], rules: [] };
    byProperty.set(metadata.propertyName, property);
    if (metadata.groups?.length || metadata.each || metadata.validateIf) return null;
    if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      property.conditions.push(metadata.constraints[0] as (object: object, value: unknown) => boolean);
    } else if (metadata.type === ValidationTypes.CUSTOM_VALIDATION) {
      const constraints = storage.getTargetValidatorConstraints(metadata.constraintCls);
      if (constraints.length === 0 || constraints.some((constraint) => constraint.async)) return null;
      property.rules.push({ constraints: metadata.constraints ?? [], validators: constraints.map((constraint) => constraint.instance) });
    } else {
      return null;
    }
  }
  return { allowed: new Set(byProperty.keys()), properties: [...byProperty.values()] };
}
