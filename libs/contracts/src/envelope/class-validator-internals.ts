import { getMetadataStorage } from 'class-validator';

/** class-validator's ValidationMetadata, which its index does not export (the fields read here). */
export interface ValidationMetadata {
  type: string;
  target: (new (...args: never[]) => unknown) | string;
  propertyName: string;
  constraintCls: unknown;
  constraints: unknown[];
  each?: boolean;
  groups?: string[];
  validateIf?: (object: object, value: unknown) => boolean;
}

/** class-validator's ConstraintMetadata (the fields read here). */
export interface ConstraintMetadata {
  async: boolean;
  instance: { validate(value: unknown, args: unknown): unknown };
}

/** The methods of class-validator's MetadataStorage that its typings hide and this library reads or wraps. */
export interface MetadataStorageInternals {
  getTargetValidationMetadatas(
    target: object,
    targetSchema: string | undefined,
    always: boolean,
    strictGroups: boolean,
    groups?: string[],
  ): ValidationMetadata[];
  groupByPropertyName(metadata: ValidationMetadata[]): Record<string, ValidationMetadata[] | undefined>;
  getTargetValidatorConstraints(target: unknown): ConstraintMetadata[];
  addValidationMetadata(metadata: ValidationMetadata): void;
  addConstraintMetadata(metadata: unknown): void;
  addValidationSchema(schema: unknown): void;
}

/** class-validator's global metadata storage, with the methods its typings hide. */
export function metadataStorageInternals(): MetadataStorageInternals {
  return getMetadataStorage() as unknown as MetadataStorageInternals;
}
