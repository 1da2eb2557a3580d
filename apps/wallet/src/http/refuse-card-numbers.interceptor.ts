import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { BadRequestException, Injectable } from '@nestjs/common';
import { findCardNumber } from '@pay/observability';
import type { Observable } from 'rxjs';
import { isPhoneNumber } from '../domain/contact';
import { isValidIban, normalizeIban } from '../domain/iban';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Some values that are not card numbers pass the Luhn check by chance: a UUID's digit groups
 * (one in ten thousand), a spaced IBAN's ("DE89 3704 0044 0532 0130 00") or an E.164 phone
 * number's digits (one in ten). A value that is wholly one of those is let through. The price:
 * a 13 to 15 digit card number written as "+<digits>" passes as a phone number (16-digit card
 * numbers do not, E.164 stops at 15); refusing one real phone number in ten would be worse, and
 * contact details are sealed and never logged.
 */
function isCardNumberFree(text: string): boolean {
  // `_` joins words in PSP ids (`tok_visa`): digits after one are a word of their own (`tok_4242…`).
  if (findCardNumber(text.replace(/_/g, ' ')) === undefined) return true;
  return UUID.test(text.trim()) || isValidIban(normalizeIban(text)) || isPhoneNumber(text);
}

/** Where in the request a card number was found (`body.label`, `query.note`). */
export function findCardNumberIn(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return isCardNumberFree(value) ? undefined : path;
  if (typeof value === 'number') return findCardNumber(String(value)) === undefined ? undefined : path;
  if (value === null || typeof value !== 'object' || depth > 10) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const name = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
    if (findCardNumber(key) !== undefined) return path;
    const found = findCardNumberIn(inner, name, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses any request whose body or query carries something that looks like a card number (13
 * to 19 digits passing the Luhn check) in any field. Card numbers never enter the system (cards
 * come as PSP tokens), so such a value is a mistake or an attack; it is refused before
 * validation or storage, and the error names the field, never the value. It runs after
 * authentication and before the validation pipe. Path segments are ids, not text: numeric
 * person ids (many apps use 15-17 digits) pass the Luhn check one time in ten.
 */
@Injectable()
export class RefuseCardNumbersInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const request = context.switchToHttp().getRequest<{ body?: unknown; query?: unknown }>();
      const field = findCardNumberIn(request.body, 'body') ?? findCardNumberIn(request.query, 'query');
      if (field) {
        throw new BadRequestException({
          code: 'CARD_NUMBER_REFUSED',
          message: `${field} contains what looks like a card number; card numbers are never accepted here: add a card through the payment provider and send its token`,
          field,
        });
      }
    }
    return next.handle();
  }
}
