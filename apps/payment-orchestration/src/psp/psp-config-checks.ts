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

/**
 * Live credentials never travel in clear text, whatever the host: refuses an `http` protocol or an
 * `http:` URL when `live(config)` holds.
 */
export function NotHttpWhenLive<Config>(live: (config: Config) => boolean, message: string): PropertyDecorator {
  return ValidateBy({
    name: 'notHttpWhenLive',
    validator: {
      validate: (value: unknown, args) => !(typeof value === 'string' && /^http(:|$)/.test(value) && live(args?.object as Config)),
      defaultMessage: () => message,
    },
  });
}
