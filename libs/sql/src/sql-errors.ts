/** What a failed statement's error says: pg's fields, on the error or on the driver error TypeORM wraps. */

/** A text field pg reports on a failed query, on the error or on the driver error TypeORM wraps. */
function driverErrorField(error: unknown, field: 'code' | 'constraint'): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const own = (error as Record<string, unknown>)[field];
  if (typeof own === 'string') return own;
  const driver = (error as { driverError?: Record<string, unknown> }).driverError?.[field];
  return typeof driver === 'string' ? driver : undefined;
}

/** The SQLSTATE of a failed query (TypeORM copies the driver error's fields onto its own). */
export function sqlStateOf(error: unknown): string | undefined {
  return driverErrorField(error, 'code');
}

/** Serialization failure and deadlock: the whole transaction may simply run again. */
export function isRetryable(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state === '40001' || state === '40P01';
}

/** The constraint a failed statement violated (pg reports it; TypeORM copies it onto its error). */
export function constraintOf(error: unknown): string | undefined {
  return driverErrorField(error, 'constraint');
}

export const UNIQUE_VIOLATION = '23505';
