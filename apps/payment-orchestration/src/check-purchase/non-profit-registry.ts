import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { flattenValidationErrors, ID_PATTERN } from '@pay/contracts';
import { plainToInstance, Type } from 'class-transformer';
import { ArrayUnique, IsArray, IsOptional, IsString, Length, Matches, validateSync, ValidateNested } from 'class-validator';

class NonProfitEntry {
  @Matches(ID_PATTERN, { message: 'id must be 1 to 100 of letters, digits, "_", "-", ":" and "."' })
  id!: string;

  @IsString()
  @Length(1, 200)
  name!: string;
}

/**
 * The registry file (NON_PROFITS_CONFIG_PATH, default config/non-profits.json):
 * `{"nonProfits":[{"id":"np-unicef","name":"UNICEF"}, …]}`. Reviewed like code: a donation goes
 * only to an organisation someone vetted. Unknown keys are refused.
 */
class NonProfitFile {
  @IsOptional()
  @IsString()
  description?: string;

  @IsArray()
  @ArrayUnique((entry: NonProfitEntry) => entry.id, { message: 'nonProfits: each id is listed once' })
  @ValidateNested({ each: true })
  @Type(() => NonProfitEntry)
  nonProfits!: NonProfitEntry[];
}

/** The registered non-profits: donations to anyone else are refused (NON_PROFIT_NOT_REGISTERED). */
export class NonProfitRegistry {
  private readonly ids: ReadonlySet<string>;

  constructor(entries: readonly { id: string; name: string }[]) {
    this.ids = new Set(entries.map((entry) => entry.id));
  }

  isRegistered(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }

  static parse(text: string): NonProfitRegistry {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new Error(`the non-profit registry is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('the non-profit registry must be a JSON object with "nonProfits"');
    const file = plainToInstance(NonProfitFile, raw);
    const problems = flattenValidationErrors(validateSync(file, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }));
    if (problems.length > 0) throw new Error(`the non-profit registry is not valid: ${problems.join('; ')}`);
    return new NonProfitRegistry(file.nonProfits);
  }

  static async load(path: string): Promise<NonProfitRegistry> {
    const absolute = resolve(path);
    try {
      return NonProfitRegistry.parse(await readFile(absolute, 'utf8'));
    } catch (error) {
      throw new Error(`cannot load the non-profit registry from NON_PROFITS_CONFIG_PATH=${absolute}: ${(error as Error).message}`, { cause: error });
    }
  }
}
