import { APPS } from '@pay/contracts';
import { plainToInstance, Type } from 'class-transformer';
import { ArrayUnique, IsArray, IsIn, IsISO31661Alpha2, IsOptional, IsString, Matches, ValidateNested } from 'class-validator';
import { validateSync } from 'class-validator';
import { flattenValidationErrors } from '@pay/contracts';
import type { CountryRollout } from './rollout-policy';

class CountryRolloutEntry implements CountryRollout {
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an upper-case ISO 3166-1 alpha-2 code, e.g. DE' })
  @IsISO31661Alpha2({ message: 'country must be an ISO 3166-1 alpha-2 code, e.g. DE' })
  country!: string;

  @IsArray()
  @ArrayUnique()
  @IsIn(APPS, { each: true, message: `each app must be one of ${APPS.join(', ')}` })
  apps!: string[];
}

/**
 * The rollout file (ROLLOUT_CONFIG_PATH, default config/rollout.json):
 * `{"countries":[{"country":"DE","apps":["facebook","messenger"]}, …]}`.
 * Unknown keys are refused, so a typo ("contries") fails loudly instead of closing Pay everywhere.
 */
export class RolloutFile {
  /** Free text for the people who edit the file. */
  @IsOptional()
  @IsString()
  description?: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => CountryRolloutEntry)
  countries!: CountryRolloutEntry[];
}

/** Parses and validates the file's text; throws an Error naming every problem. */
export function parseRolloutFile(text: string): CountryRollout[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`the rollout file is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('the rollout file must be a JSON object with "countries"');
  const file = plainToInstance(RolloutFile, raw);
  const problems = flattenValidationErrors(validateSync(file, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }));
  const seen = new Set<string>();
  for (const entry of file.countries ?? []) {
    if (seen.has(entry.country)) problems.push(`countries: ${entry.country} is listed twice`);
    seen.add(entry.country);
  }
  if (problems.length > 0) throw new Error(`the rollout file is not valid: ${problems.join('; ')}`);
  return file.countries.map((entry) => ({ country: entry.country, apps: [...entry.apps] }));
}
