import type { CursorPosition, SortOrder } from './history-query';

/** A cursor that is not one this service issued (or was issued for the other sort order). */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Opaque to clients: the sort key of the last entry of a page, and the order it was read in. */
export function encodeCursor(position: CursorPosition, order: SortOrder): string {
  return Buffer.from(JSON.stringify({ t: position.occurredAt, id: position.entryId, o: order }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, order: SortOrder): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('cursor is not one this API issued: pass nextCursor of the previous page unchanged');
  }
  const { t, id, o } = (parsed ?? {}) as { t?: unknown; id?: unknown; o?: unknown };
  if (typeof t !== 'string' || !INSTANT.test(t) || typeof id !== 'string' || id.length === 0 || id.length > 300) {
    throw new InvalidCursorError('cursor is not one this API issued: pass nextCursor of the previous page unchanged');
  }
  if (o !== order) throw new InvalidCursorError(`cursor was issued for order=${String(o)}; ask with the same order`);
  return { occurredAt: t, entryId: id };
}
