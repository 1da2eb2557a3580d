import 'reflect-metadata';
import type { ValidationError, ValidatorOptions } from 'class-validator';
import { IsInt, IsString, Min, validateSync, ValidateNested } from 'class-validator';
import { plainToInstance, Type } from 'class-transformer';
import { installValidationMetadataCache } from './validation-metadata-cache';

class Inner {
  @IsString({ groups: ['strict'] })
  code!: unknown;

  @IsInt()
  size = 1;
}
class Outer {
  @ValidateNested()
  @Type(() => Inner)
  inner!: Inner;
}
const OPTIONS: ValidatorOptions[] = [{}, { groups: ['strict'] }, { groups: ['other'] }, { strictGroups: true }, { always: true }];
const describeErrors = (errors: ValidationError[]): string => JSON.stringify(errors, (key, value: unknown) => (key === 'target' ? undefined : value));
// Before the cache is installed (beforeAll): class-validator's own answers.
const uncached = OPTIONS.map((options) => describeErrors(validateSync(plainToInstance(Outer, { inner: { code: 1 } }), options)));

const problems = (object: object): string[] => validateSync(object).flatMap((error) => Object.values(error.constraints ?? {}));

describe('the validation metadata cache', () => {
  beforeAll(() => installValidationMetadataCache());

  class Base {
    @IsString()
    name!: unknown;
  }

  it('validates as class-validator does, again and again', () => {
    const bad = Object.assign(new Base(), { name: 7 });
    expect(problems(bad)).toEqual(['name must be a string']);
    expect(problems(bad)).toEqual(['name must be a string']);
    expect(problems(Object.assign(new Base(), { name: 'ok' }))).toEqual([]);
  });

  it('sees decorators registered after a validation: a subclass defined later, and a new rule on an old class', () => {
    expect(problems(Object.assign(new Base(), { name: 'x' }))).toEqual([]);
    class Later extends Base {
      @IsInt()
      @Min(1)
      count!: unknown;
    }
    expect(problems(Object.assign(new Later(), { name: 3, count: 0 })).sort()).toEqual(['count must not be less than 1', 'name must be a string']);
    // A decorator applied to Base now (as a class defined later in a module would) reaches Base's next validation.
    IsInt()(Base.prototype, 'age');
    expect(problems(Object.assign(new Base(), { name: 'x', age: 'old' }))).toEqual(['age must be an integer number']);
  });

  it('gives what class-validator gives without it: nested objects, groups, strict groups', () => {
    const outer = plainToInstance(Outer, { inner: { code: 1 } });
    expect(OPTIONS.map((options) => describeErrors(validateSync(outer, options)))).toEqual(uncached);
    expect(OPTIONS.map((options) => describeErrors(validateSync(outer, options)))).toEqual(uncached);
  });
});
