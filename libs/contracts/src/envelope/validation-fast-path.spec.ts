import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import type { ValidationArguments, ValidatorConstraintInterface } from 'class-validator';
import {
  Allow,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Min,
  registerDecorator,
  ValidateIf,
  ValidateNested,
  ValidatePromise,
  validateSync,
  ValidatorConstraint,
} from 'class-validator';
import '../index';
import { EXAMPLES } from '../asyncapi/examples';
import { PaymentInstrument, readPaymentInstrument, readPaymentInstrumentWithClassValidator } from '../wallet/payment-instrument';
import { EventEnvelope } from './event-envelope';
import { eventDefinitions, findEventDefinition, InvalidEventError, parseEvent, parseEventWithClassValidator } from './event-registry';
import { provenValid } from './validation-fast-path';

const EVENT = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;
const STRIP = { whitelist: true, forbidUnknownValues: true } as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const WRONG_VALUES: Json[] = [
  null,
  7,
  -1,
  1.5,
  0,
  true,
  'x',
  '',
  'a'.repeat(600),
  '2026-13-45T99:00:00Z',
  '!!not matching!!',
  {},
  [],
  [1],
  { nested: 'extra' },
];

/** Every way to break a document one step: each property or item removed, replaced by a wrong value, or given an extra sibling. */
function mutationsOf(root: Json): { name: string; value: Json }[] {
  const found: { name: string; value: Json }[] = [];
  const walk = (node: Json, path: (string | number)[]): void => {
    if (node === null || typeof node !== 'object') return;
    const at = (value: Json, change: (target: Record<string, Json> | Json[]) => void, name: string): void => {
      const copy = clone(value);
      let target = copy as Record<string, Json> | Json[];
      for (const step of path) target = (target as Record<string, Json>)[step] as Record<string, Json>;
      change(target);
      found.push({ name: `${path.join('.') || '(root)'}: ${name}`, value: copy });
    };
    if (!Array.isArray(node)) at(root, (target) => ((target as Record<string, Json>).unexpected = 'extra'), 'extra property');
    else at(root, (target) => (target as Json[]).push(clone(node[0] ?? 'item')), 'one more item');
    for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) {
      at(root, (target) => (Array.isArray(target) ? target.splice(key as number, 1) : delete target[key]), `${key} removed`);
      for (const wrong of WRONG_VALUES) {
        at(root, (target) => ((target as Record<string, Json>)[key] = clone(wrong)), `${key} = ${JSON.stringify(wrong).slice(0, 20)}`);
      }
      walk((node as Record<string, Json>)[key], [...path, key]);
    }
  };
  walk(root, []);
  return found;
}

type Outcome = { accepted: unknown } | { refused: string; reasons?: string[] };
function outcome(read: () => unknown): Outcome {
  try {
    return { accepted: read() };
  } catch (error) {
    return { refused: (error as Error).message, reasons: error instanceof InvalidEventError ? error.reasons : undefined };
  }
}

/** The instances' classes all the way down, so "equal" also means "the same classes" (consumers use instanceof). */
const shapeOf = (value: unknown): unknown =>
  value !== null && typeof value === 'object'
    ? { class: value.constructor?.name, entries: Object.entries(value).map(([key, item]) => [key, shapeOf(item)]) }
    : value;

const INSTRUMENTS: Record<string, Json> = {
  card: { methodId: '3f1c2a9e-6a4b-4c1e-9f51-2b7d8e0a1c44', kind: 'card', credentials: { pspToken: 'pm_card_visa', customer: 'cus_ABC123def' } },
  paypal: { methodId: '3f1c2a9e-6a4b-4c1e-9f51-2b7d8e0a1c44', kind: 'paypal', credentials: { payerId: 'QYR5Z8XDVJNXQ', vaultToken: 'vault_abc123' } },
  sepa: {
    methodId: '3f1c2a9e-6a4b-4c1e-9f51-2b7d8e0a1c44',
    kind: 'bank_account',
    credentials: {
      iban: 'DE89370400440532013000',
      bic: 'COBADEFFXXX',
      holderName: 'Ana Maria Silva',
      mandate: {
        textVersion: 'sepa-core-2026-01',
        ipAddress: '2001:db8::7',
        userAgent: 'PayTest/1.0',
        app: 'facebook',
        acceptedAt: '2026-12-01T10:00:00.000Z',
      },
    },
  },
  ach: {
    methodId: '3f1c2a9e-6a4b-4c1e-9f51-2b7d8e0a1c44',
    kind: 'bank_account',
    credentials: { routingNumber: '110000000', accountNumber: '000123456789', accountType: 'checking', holderName: 'Ana Maria Silva' },
  },
};

describe('the validation fast path (provenValid) against class-validator', () => {
  describe.each(Object.entries(EXAMPLES))('the example of %s', (type, example) => {
    it('is proven valid, envelope and data, and parsed to the same instances as class-validator parses it', () => {
      const raw = example as { data: object };
      const envelope = plainToInstance(EventEnvelope, raw);
      const data = plainToInstance(findEventDefinition(type, 1)!.dataClass, raw.data);
      expect(validateSync(data, EVENT)).toEqual([]);
      expect(provenValid(envelope, { ...EVENT, skipMissingProperties: false }, 'data')).toBe(true);
      expect(provenValid(data, EVENT)).toBe(true);
      const fast = parseEvent(clone(example));
      const checked = parseEventWithClassValidator(clone(example));
      expect(fast).toBeInstanceOf(EventEnvelope);
      expect(fast.data).toBeInstanceOf(findEventDefinition(type, 1)!.dataClass);
      expect(shapeOf(fast)).toEqual(shapeOf(checked));
    });

    it('is accepted or refused, with the same reasons, as before, for every one-step mutation', () => {
      const mutations = mutationsOf(example as Json);
      let refused = 0;
      for (const { name, value } of mutations) {
        const fast = outcome(() => parseEvent(clone(value)));
        const checked = outcome(() => parseEventWithClassValidator(clone(value)));
        if ('refused' in checked) refused += 1;
        expect({ name, outcome: 'accepted' in fast ? shapeOf(fast.accepted) : fast }).toEqual({
          name,
          outcome: 'accepted' in checked ? shapeOf(checked.accepted) : checked,
        });
      }
      // The mutations reach both answers: the comparison above is not between two refusals only.
      expect(refused).toBeGreaterThan(mutations.length / 2);
      expect(refused).toBeLessThan(mutations.length);
    });

    it('says valid exactly when validateSync finds nothing, for the data of every mutation', () => {
      const dataClass = findEventDefinition(type, 1)!.dataClass;
      for (const { name, value } of mutationsOf((example as { data: Json }).data)) {
        const make = (): object => plainToInstance(dataClass, clone(value) as object);
        expect({ name, proven: provenValid(make(), EVENT) }).toEqual({ name, proven: validateSync(make(), EVENT).length === 0 });
      }
    });
  });

  it('agrees with class-validator on an empty and a foreign object for the data class of every event type', () => {
    for (const definition of eventDefinitions()) {
      for (const plain of [{}, { unexpected: 1 }, { paymentId: 'p-1' }]) {
        const expected = validateSync(plainToInstance(definition.dataClass, plain), EVENT).length === 0;
        expect({ type: definition.type, plain, proven: provenValid(plainToInstance(definition.dataClass, plain), EVENT) }).toEqual({
          type: definition.type,
          plain,
          proven: expected,
        });
      }
    }
  });

  describe.each(Object.entries(INSTRUMENTS))('the %s instrument', (_kind, instrument) => {
    it('is proven valid and read, stripped, as class-validator reads it, for itself and every one-step mutation', () => {
      expect(provenValid(plainToInstance(PaymentInstrument, clone(instrument)), STRIP)).toBe(true);
      let accepted = 0;
      for (const { name, value } of [{ name: 'as is', value: instrument }, ...mutationsOf(instrument)]) {
        const fast = outcome(() => readPaymentInstrument(clone(value)));
        const checked = outcome(() => readPaymentInstrumentWithClassValidator(clone(value)));
        if ('accepted' in checked) accepted += 1;
        expect({ name, outcome: 'accepted' in fast ? shapeOf(fast.accepted) : fast }).toEqual({
          name,
          outcome: 'accepted' in checked ? shapeOf(checked.accepted) : checked,
        });
      }
      expect(accepted).toBeGreaterThan(1); // extra properties are stripped, not refused
    });
  });
});

describe('provenValid on what it mirrors and what it leaves to class-validator', () => {
  /** Each side gets its own instance: whitelist strips what it judges. */
  const agrees = (make: () => object, options: object): void => {
    const expected = validateSync(make(), options).length === 0;
    const object = make();
    expect({ object, proven: provenValid(object, options) }).toEqual({ object, proven: expected });
  };

  class Item {
    @IsInt()
    @Min(1)
    size!: unknown;
  }
  class Order {
    @IsString()
    @Length(1, 5)
    name!: unknown;

    @IsOptional()
    @IsIn(['a', 'b'], { each: true })
    tags?: unknown;

    @ValidateNested({ each: true })
    @Type(() => Item)
    items!: unknown;

    @IsDefined()
    @ValidateIf((order: Order) => order.name !== 'skip')
    @IsInt()
    count!: unknown;

    @Allow()
    note?: unknown;
  }
  const order = (plain: object): Order => plainToInstance(Order, { name: 'ok', items: [{ size: 1 }], count: 1, ...plain });

  it('decides as class-validator does: each, optional, ValidateIf, IsDefined, Allow, nested arrays, Sets and Maps', () => {
    for (const plain of [
      {},
      { tags: ['a', 'b'] },
      { tags: ['a', 'c'] },
      { tags: new Set(['a']) },
      { tags: new Map([['k', 'z']]) },
      { tags: null },
      { name: 'toolong' },
      { name: 'skip', count: 'x' },
      { name: 'ok', count: 'x' },
      { count: undefined },
      { note: { anything: true } },
      { items: [] },
      { items: [{ size: 0 }] },
      { items: [[{ size: 1 }]] },
      { items: [{ size: 1, extra: 1 }] },
      { items: [7] },
      { items: {} },
      { items: 'x' },
      { constructor: 1 },
      { toString: 1 },
      { unexpected: 1 },
    ]) {
      const make = (): Order => {
        const instance = order(plain);
        if ('tags' in plain) instance.tags = plain.tags; // class-transformer turns Sets and Maps into plain objects
        return instance;
      };
      agrees(make, EVENT);
      agrees(make, STRIP);
    }
  });

  it('reads a hole in an array of nested objects as class-validator does (it skips it)', () => {
    const withHole =
      (item: object): (() => Order) =>
      () => {
        const instance = order({});
        const items: unknown[] = [];
        items[1] = plainToInstance(Item, item);
        instance.items = items;
        return instance;
      };
    agrees(withHole({ size: 1 }), EVENT);
    agrees(withHole({ size: 0 }), EVENT);
    expect(provenValid(withHole({ size: 1 })(), EVENT)).toBe(true);
  });

  it('strips what whitelist strips, and only then says valid', () => {
    const instance = order({ unexpected: 1, items: [{ size: 2, extra: true }] });
    expect(provenValid(instance, STRIP)).toBe(true);
    expect(instance).toEqual(order({ items: [{ size: 2 }] }));
    expect(provenValid(order({ unexpected: 1 }), EVENT)).toBe(false);
  });

  it('refuses an object whose class has no rules (forbidUnknownValues) and options it does not mirror', () => {
    expect(provenValid({ a: 1 }, EVENT)).toBe(false);
    expect(validateSync({ a: 1 }, EVENT)).not.toEqual([]);
    const valid = order({});
    expect(provenValid(valid, EVENT)).toBe(true);
    expect(provenValid(valid, { ...EVENT, groups: ['x'] })).toBe(false);
    expect(provenValid(valid, { ...EVENT, skipMissingProperties: true })).toBe(false);
    expect(provenValid(valid, { forbidUnknownValues: true })).toBe(false);
  });

  it('leaves groups, promises and async constraints to class-validator', () => {
    class Grouped {
      @IsString({ groups: ['strict'] })
      name = 'x';
    }
    class Promised {
      @ValidatePromise()
      @IsString()
      name: unknown = 'x';
    }
    @ValidatorConstraint({ async: true })
    class Eventually implements ValidatorConstraintInterface {
      validate(): Promise<boolean> {
        return Promise.resolve(true);
      }
    }
    class Async {
      @IsString()
      name = 'x';
    }
    registerDecorator({ target: Async, propertyName: 'name', validator: Eventually });
    class Answers {
      name = 'x';
    }
    // Declared sync, but answers with a promise: validateSync would not wait for it.
    registerDecorator({
      target: Answers,
      propertyName: 'name',
      validator: { validate: (_value: unknown, _args?: ValidationArguments) => Promise.resolve(false) },
    });
    for (const object of [new Grouped(), new Promised(), new Async(), new Answers()]) expect(provenValid(object, EVENT)).toBe(false);
  });

  it('sees a rule registered after it compiled a class', () => {
    class Later {
      @IsString()
      name: unknown = 'x';
    }
    const later = new Later();
    expect(provenValid(later, EVENT)).toBe(true);
    IsInt()(Later.prototype, 'name');
    expect(provenValid(later, EVENT)).toBe(false);
    expect(validateSync(later, EVENT)).not.toEqual([]);
  });

  it('leaves an object that is not JSON (a class instance, a Map) to class-validator in parseEvent', () => {
    const example = clone(EXAMPLES['payments.purchase.requested']) as object;
    const asMap = new Map(Object.entries(example));
    expect(outcome(() => parseEvent(asMap))).toEqual(outcome(() => parseEventWithClassValidator(asMap)));
    const instance = Object.assign(new EventEnvelope(), example);
    expect(shapeOf(parseEvent(instance))).toEqual(shapeOf(parseEventWithClassValidator(clone(example))));
  });
});
