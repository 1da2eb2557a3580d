import { ValidateBy } from 'class-validator';

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
