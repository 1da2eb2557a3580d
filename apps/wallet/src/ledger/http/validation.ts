import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { flattenValidationErrors } from '@pay/contracts';
import type { ValidationOptions } from 'class-validator';
import { ValidateBy } from 'class-validator';

/**
 * The ledger's controllers validate their own input (whitelisted, unknown fields refused), in
 * the same error shape as the platform's global pipe, so the module works on its own too.
 */
export const ledgerValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) =>
    new BadRequestException({ code: 'VALIDATION_FAILED', message: `the request is not valid: ${flattenValidationErrors(errors).join('; ')}` }),
});

/** Client ids: no ':' (the ledger derives `<reservation>:post` and friends). */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const ID_MESSAGE = '$property must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** A transaction reference may also name a posted reservation (`<reservation>:post`). */
export const TRANSACTION_REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(:(post|void|expire))?$/;

/** Positive minor units as a decimal string: JSON numbers lose precision past 2^53. */
export const POSITIVE_AMOUNT = /^[1-9][0-9]{0,18}$/;
export const AMOUNT_MESSAGE = '$property must be a positive whole number of minor units written as a string, e.g. "1250"';

export function IsStringMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringMap',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === 'string'),
        defaultMessage: () => '$property must be an object whose values are strings',
      },
    },
    options,
  );
}
