import { ValidateBy } from 'class-validator';

/** A variable holding a JSON object that passes `test`; the message says what is accepted. */
export function IsJsonWith(what: string, test: (parsed: Record<string, unknown>) => boolean): PropertyDecorator {
  return ValidateBy({
    name: 'isJsonWith',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string') return false;
        try {
          const parsed = JSON.parse(value) as unknown;
          return typeof parsed === 'object' && parsed !== null && test(parsed as Record<string, unknown>);
        } catch {
          return false;
        }
      },
      defaultMessage: () => `must be ${what}`,
    },
  });
}
