import { plainToInstance } from 'class-transformer';
import type { ValidationError } from 'class-validator';
import { validateSync } from 'class-validator';

/**
 * Thrown when the environment is wrong. Its message names every bad variable and what is
 * accepted, never the value (a value may be a secret).
 */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

function describe(errors: ValidationError[]): string[] {
  return errors.map((error) => {
    // class-validator's own messages start with the property name; say it once.
    const reasons = Object.values(error.constraints ?? {}).map((m) => m.replace(new RegExp(`^${error.property} `), ''));
    return `${error.property} ${reasons.join(', ')}`;
  });
}

/**
 * Reads the environment into a validated config class. Unknown variables are ignored
 * (the process environment holds many); every declared one is checked at start-up.
 */
export function loadConfig<T extends object>(service: string, configClass: new () => T, env: NodeJS.ProcessEnv = process.env): T {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') plain[key] = value;
  }
  const config = plainToInstance(configClass, plain, { enableImplicitConversion: false, exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: false, forbidUnknownValues: true, stopAtFirstError: true });
  if (errors.length > 0) throw new ConfigError(service, describe(errors));
  return config;
}

/** What `loadConfig` refuses in `env`, as its message (each bad variable named); '' when it accepts it. */
export function configProblems<T extends object>(service: string, configClass: new () => T, env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(service, configClass, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return '';
}
