import { ValidateBy } from 'class-validator';

/** The simulators' credentials are public (they are in this repository): production refuses them. */
export function NotSimulatorValueInProduction(simulatorValue: string, what: string): PropertyDecorator {
  return ValidateBy({
    name: 'notSimulatorValueInProduction',
    validator: {
      validate: (value: unknown, args) => !(value === simulatorValue && (args?.object as { NODE_ENV?: string }).NODE_ENV === 'production'),
      defaultMessage: () => `must not be the PSP simulator's public ${what} in production`,
    },
  });
}
