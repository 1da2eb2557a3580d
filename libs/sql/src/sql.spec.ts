import { constraintOf, isRetryable, sqlStateOf, toBigInt, toNullableBigInt, UNIQUE_VIOLATION } from './sql';

describe('what a failed statement reports', () => {
  const pgError = { code: UNIQUE_VIOLATION, constraint: 'payments_pkey' };
  const typeOrmError = { message: 'duplicate key', driverError: { code: '40001', constraint: 'ledger_entries_pkey' } };

  it('reads the SQLSTATE and the constraint on a pg error and on the driver error TypeORM wraps', () => {
    expect([sqlStateOf(pgError), constraintOf(pgError)]).toEqual([UNIQUE_VIOLATION, 'payments_pkey']);
    expect([sqlStateOf(typeOrmError), constraintOf(typeOrmError)]).toEqual(['40001', 'ledger_entries_pkey']);
  });

  it('answers undefined for anything else', () => {
    for (const error of [undefined, null, 'boom', new Error('boom'), { code: 23505 }, { driverError: { constraint: 7 } }]) {
      expect([sqlStateOf(error), constraintOf(error)]).toEqual([undefined, undefined]);
    }
  });

  it('retries serialization failures and deadlocks only', () => {
    expect([isRetryable(typeOrmError), isRetryable({ code: '40P01' }), isRetryable(pgError)]).toEqual([true, true, false]);
  });
});

describe('bigint columns', () => {
  it('converts exactly, never through Number', () => {
    expect(toBigInt('999999999999999999')).toBe(999_999_999_999_999_999n);
    expect(toBigInt(-12)).toBe(-12n);
    expect(toNullableBigInt(null)).toBeNull();
    expect(() => toBigInt('1.5')).toThrow('expected an integer from the database, got 1.5');
    expect(() => toBigInt(2 ** 60)).toThrow(TypeError);
  });
});
