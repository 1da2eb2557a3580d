import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { flattenValidationErrors } from '@pay/contracts';

export type ChatRefusal = { ok: false; code: string; message: string; details?: string[] };
export type ChatAck<T extends object = Record<string, unknown>> = ({ ok: true } & T) | ChatRefusal;

/** Validates a client's WebSocket payload: the instance, or the refusal to acknowledge with. */
export function parseChatMessage<T extends object>(type: new () => T, body: unknown): T | ChatRefusal {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, code: 'INVALID_MESSAGE', message: 'the payload must be a JSON object' };
  const value = plainToInstance(type, body);
  const problems = flattenValidationErrors(validateSync(value, { whitelist: true, forbidNonWhitelisted: true }));
  if (problems.length > 0) return { ok: false, code: 'INVALID_MESSAGE', message: 'the payload is not valid', details: problems };
  return value;
}
