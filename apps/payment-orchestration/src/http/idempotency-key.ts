import { BadRequestException, HttpException } from '@nestjs/common';
import type { Refusal, RequestOutcome } from '../payments/payment-request';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The `Idempotency-Key` header: required on every POST that moves money, a UUID (for payments it
 * becomes the request id, the same key space as the Kafka door's `requestId`).
 */
export function idempotencyKeyOf(header: string | undefined): string {
  if (header === undefined || header.trim() === '') {
    throw new BadRequestException({
      code: 'IDEMPOTENCY_KEY_REQUIRED',
      message: 'send an Idempotency-Key header (a UUID): retries with the same key never pay twice',
    });
  }
  if (!UUID.test(header.trim()))
    throw new BadRequestException({
      code: 'IDEMPOTENCY_KEY_INVALID',
      message: 'the Idempotency-Key must be a UUID, e.g. 5d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
    });
  return header.trim().toLowerCase();
}

/** The part of the HTTP response a controller sets for an idempotent answer (express underneath). */
export interface IdempotentResponse {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}

/** Answers with the status of the (first) answer, telling a replay apart; a refusal with its status, code and message. */
export function answerIdempotently<T>(response: IdempotentResponse, outcome: RequestOutcome<T, Refusal>): T {
  if (outcome.outcome === 'refused') throw new HttpException({ code: outcome.refusal.code, message: outcome.refusal.message }, outcome.refusal.status);
  response.status(outcome.status);
  if (outcome.replayed) response.setHeader('Idempotent-Replayed', 'true');
  return outcome.body;
}
