import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { Catch, HttpStatus } from '@nestjs/common';
import type { LedgerErrorCode } from '@pay/ledger-domain';
import { LedgerError } from '@pay/ledger-domain';

/** The JSON body of every ledger error: a stable code and a reason a person can act on. */
export interface LedgerErrorBody {
  code: string;
  message: string;
}

interface HttpResponse {
  status(code: number): { json(body: unknown): void };
}

interface HttpRequest {
  params?: Record<string, string>;
}

const NOT_FOUND_CODES: readonly LedgerErrorCode[] = ['ACCOUNT_NOT_FOUND', 'RESERVATION_NOT_FOUND', 'TRANSACTION_NOT_FOUND'];

/**
 * The HTTP status of a refusal:
 * - 400: the request is malformed (INVALID_INPUT);
 * - 404: the resource named in the URL does not exist;
 * - 409: the id was used before for other content (IDEMPOTENCY_CONFLICT);
 * - 422: a well-formed request the ledger rules refuse (unbalanced, insufficient funds, an
 *   account in the body that does not exist, a hold no longer pending, ...).
 */
export function httpStatusOf(error: LedgerError, pathId: string | undefined): number {
  if (error.code === 'INVALID_INPUT') return HttpStatus.BAD_REQUEST;
  if (error.code === 'IDEMPOTENCY_CONFLICT') return HttpStatus.CONFLICT;
  if (NOT_FOUND_CODES.includes(error.code) && pathId !== undefined && Object.values(error.details).includes(pathId)) return HttpStatus.NOT_FOUND;
  return HttpStatus.UNPROCESSABLE_ENTITY;
}

@Catch(LedgerError)
export class LedgerErrorFilter implements ExceptionFilter<LedgerError> {
  catch(error: LedgerError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const body: LedgerErrorBody = { code: error.code, message: error.message };
    http.getResponse<HttpResponse>().status(httpStatusOf(error, request.params?.id)).json(body);
  }
}
