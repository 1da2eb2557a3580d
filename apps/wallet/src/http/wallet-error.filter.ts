import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { Catch, HttpStatus } from '@nestjs/common';
import { StepUpProofError } from '@pay/auth';
import { RolloutError } from '@pay/rollout';
import type { ServerResponse } from 'node:http';
import type { WalletErrorKind } from '../domain/wallet-error';
import { WalletError } from '../domain/wallet-error';

const STATUS: Record<WalletErrorKind, HttpStatus> = {
  invalid: HttpStatus.BAD_REQUEST,
  'not-found': HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  refused: HttpStatus.FORBIDDEN,
  locked: HttpStatus.LOCKED,
  'rate-limited': HttpStatus.TOO_MANY_REQUESTS,
  unsupported: HttpStatus.NOT_IMPLEMENTED,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

/** Turns rule refusals into `{code, message, …}` bodies with the status their kind implies. */
@Catch(WalletError, RolloutError, StepUpProofError)
export class WalletErrorFilter implements ExceptionFilter {
  catch(error: WalletError | RolloutError | StepUpProofError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<ServerResponse>();
    const [status, body] = refusalAnswer(error);
    response.statusCode = status;
    response.setHeader('content-type', 'application/json; charset=utf-8');
    if (error instanceof WalletError && typeof error.details.retryAfterSeconds === 'number')
      response.setHeader('retry-after', String(error.details.retryAfterSeconds));
    response.end(JSON.stringify(body));
  }
}

/** The status and body a refusal is answered with (also one item's answer of a batch route). */
export function refusalAnswer(error: WalletError | RolloutError | StepUpProofError): [number, Record<string, unknown>] {
  if (error instanceof RolloutError) {
    return [HttpStatus.FORBIDDEN, { code: error.code, message: error.message, country: error.country, ...(error.app ? { app: error.app } : {}) }];
  }
  if (error instanceof StepUpProofError) {
    return [HttpStatus.FORBIDDEN, { code: 'STEP_UP_PROOF_REFUSED', message: error.message, reason: error.reason }];
  }
  return [STATUS[error.kind], { code: error.code, message: error.message, ...error.details }];
}
