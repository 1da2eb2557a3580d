import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { DependencyUnavailableError, unavailabilityOf } from './dependency-unavailable';

function pgError(code: string, message: string): DatabaseError {
  const error = new DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

/** How TypeORM hands a failed query's error to the caller. */
const viaTypeorm = (driverError: Error): QueryFailedError => new QueryFailedError('INSERT …', [], driverError);

function socketError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111, syscall: 'connect', address: '127.0.0.1', port: 5432 });
}

describe('unavailabilityOf', () => {
  it('finds a DependencyUnavailableError, also as the cause of another error', () => {
    const error = new DependencyUnavailableError('wallet-step-up-keys', 'keys could not be fetched');
    expect(unavailabilityOf(error)).toEqual({ dependency: 'wallet-step-up-keys', reason: 'keys could not be fetched' });
    expect(unavailabilityOf(new Error('handler failed', { cause: error }))).toEqual({ dependency: 'wallet-step-up-keys', reason: 'keys could not be fetched' });
  });

  it('recognises PostgreSQL out of reach: refused connections, lost connections, server shutting down or full', () => {
    expect(unavailabilityOf(socketError('ECONNREFUSED'))).toEqual({ dependency: 'connection', reason: 'connect ECONNREFUSED 127.0.0.1:5432' });
    // Node tries every address of a host name: one AggregateError with the code.
    expect(unavailabilityOf(Object.assign(new AggregateError([socketError('ECONNREFUSED')]), { code: 'ECONNREFUSED' }))).toMatchObject({
      dependency: 'connection',
    });
    expect(unavailabilityOf(new Error('Connection terminated unexpectedly'))).toMatchObject({ dependency: 'postgresql' });
    expect(unavailabilityOf(new Error('timeout exceeded when trying to connect'))).toMatchObject({ dependency: 'postgresql' });
    for (const code of ['57P01', '57P02', '57P03', '53300', '08006', '08001']) {
      expect(unavailabilityOf(viaTypeorm(pgError(code, 'terminating connection due to administrator command')))).toMatchObject({
        dependency: 'postgresql',
        reason: expect.stringContaining(code),
      });
    }
  });

  it('does not take a failing statement for an outage: constraint violations, conflicts, bad SQL, plain errors', () => {
    for (const [code, message] of [
      ['23505', 'duplicate key value violates unique constraint "payments_pkey"'],
      ['23514', 'new row violates check constraint'],
      ['40001', 'could not serialize access due to concurrent update'],
      ['40P01', 'deadlock detected'],
      ['42P01', 'relation "missing" does not exist'],
      ['22P02', 'invalid input syntax for type uuid'],
    ]) {
      expect(unavailabilityOf(viaTypeorm(pgError(code, message)))).toBeUndefined();
    }
    expect(unavailabilityOf(new Error('downstream refused item 666'))).toBeUndefined();
    expect(unavailabilityOf(new TypeError('Cannot read properties of undefined'))).toBeUndefined();
    expect(unavailabilityOf('a string')).toBeUndefined();
    expect(unavailabilityOf(undefined)).toBeUndefined();
  });

  it('survives a cause chain that loops', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(unavailabilityOf(a)).toBeUndefined();
  });
});
