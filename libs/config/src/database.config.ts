import { IsOptional, Matches } from 'class-validator';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/payments';

/**
 * Where a service's tables are: all that the database tools (tools/migrate.ts,
 * tools/history/rebuild.ts) read and validate, and what every service reads as well
 * (BaseServiceConfig extends it, so both accept and refuse the same values).
 */
export class DatabaseConfig {
  @Matches(/^postgres(ql)?:\/\/[^\s]+$/, { message: 'must be a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/payments' })
  DATABASE_URL: string = DEFAULT_DATABASE_URL;

  /** Overrides the service's own schema name (tests give each run its own). */
  @IsOptional()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a PostgreSQL schema name: lower-case letters, digits and "_"' })
  DB_SCHEMA?: string;
}
