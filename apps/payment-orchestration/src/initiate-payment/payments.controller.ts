import { Body, Controller, ForbiddenException, Headers, HttpException, HttpStatus, Inject, Post, Res, ServiceUnavailableException } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { describeActor, Principal, RequireScopes, Roles, StepUpKeysUnavailableError } from '@pay/auth';
import { SERVICE_CONFIG, sqlOfPool, takeToken } from '@pay/platform';
import { DataSource } from 'typeorm';
import type { PaymentOrchestrationConfig } from '../config';
import { mayInitiateInApp } from '../view-payment/payment-access';
import type { IdempotentResponse } from '../http/idempotency-key';
import { answerIdempotently, idempotencyKeyOf } from '../http/idempotency-key';
import { PaymentRequestBody } from './payment-request-body.dto';
import type { PaymentAccepted } from './initiate-payment';
import { InitiatePayment, PaymentRateLimitedError } from './initiate-payment';
import { toPurchaseRequest } from './to-purchase-request';

/** Seconds a caller waits before asking again when the wallet's step-up keys are out of reach (a key fetch times out after 3 s). */
export const STEP_UP_RETRY_AFTER_SECONDS = 5;

function rateLimited(response: IdempotentResponse, retryAfterSeconds: number, message: string): HttpException {
  response.setHeader('Retry-After', String(retryAfterSeconds));
  return new HttpException({ code: 'RATE_LIMITED', message, retryAfterSeconds }, HttpStatus.TOO_MANY_REQUESTS);
}

/**
 * The HTTP door of intake (the Kafka door is payments.purchase-requests.v1): internal services
 * ask for a payment for a person. 202: accepted, the outcome follows on payments.events.v1 and
 * at GET /v1/payments/:id. The same Idempotency-Key with the same body gets the first answer
 * again (Idempotent-Replayed: true); with another body 422 IDEMPOTENCY_KEY_REUSED.
 * 503 STEP_UP_KEYS_UNAVAILABLE (with Retry-After): the step-up proof could not be checked because
 * the wallet's keys are out of reach; nothing was decided or written, send the same request with
 * the same key again.
 */
@ApiTags('payments')
@ApiBearerAuth()
@Controller('v1/payments')
@Roles('service')
export class PaymentsController {
  constructor(
    @Inject(InitiatePayment) private readonly initiatePayment: InitiatePayment,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: PaymentOrchestrationConfig,
  ) {}

  @Post()
  @RequireScopes('payments:initiate')
  @ApiOperation({ summary: 'Request a purchase, donation or transfer (idempotent by Idempotency-Key)' })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'A UUID; the request id of the payment' })
  @ApiAcceptedResponse({ description: 'Accepted: the payment exists and is being processed' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED, IDEMPOTENCY_KEY_REQUIRED, IDEMPOTENCY_KEY_INVALID' })
  @ApiForbiddenResponse({
    description:
      "APP_NOT_ALLOWED (the request's app is not the token's `app`), PAY_NOT_AVAILABLE_IN_COUNTRY, PAY_NOT_AVAILABLE_IN_APP, PAY_NOT_ACTIVE_IN_APP, STEP_UP_*",
  })
  @ApiNotFoundResponse({ description: 'WALLET_NOT_FOUND, RECIPIENT_NOT_FOUND' })
  @ApiUnprocessableEntityResponse({
    description:
      'IDEMPOTENCY_KEY_REUSED, CURRENCY_NOT_SUPPORTED, AMOUNT_*, PAYMENT_METHOD_*, NO_PREFERRED_METHOD, NON_PROFIT_NOT_REGISTERED, COUNTERPARTY_NOT_ALLOWED, SELF_TRANSFER',
  })
  @ApiServiceUnavailableResponse({
    description:
      "STEP_UP_KEYS_UNAVAILABLE: the step-up proof could not be checked (the wallet's keys are out of reach). Not a refusal: nothing was written or published and the " +
      'Idempotency-Key is still free; send the same request with the same key after Retry-After. Also AUTH_KEYS_UNAVAILABLE: the access-token keys could not be fetched.',
    headers: { 'Retry-After': { description: 'Seconds to wait before asking again', schema: { type: 'integer', example: STEP_UP_RETRY_AFTER_SECONDS } } },
  })
  @ApiTooManyRequestsResponse({
    description:
      'RATE_LIMITED: too many requests from this caller (PAYMENTS_PER_CALLER_PER_MINUTE) or new payments for this payer (PAYMENTS_PER_PAYER_PER_MINUTE). Nothing was written; the Idempotency-Key is still free.',
    headers: { 'Retry-After': { description: 'Seconds to wait before asking again', schema: { type: 'integer' } } },
  })
  async create(
    @Headers('idempotency-key') key: string | undefined,
    @Body() body: PaymentRequestBody,
    @Res({ passthrough: true }) response: IdempotentResponse,
    @Principal() caller: Caller,
  ): Promise<PaymentAccepted> {
    const requestId = idempotencyKeyOf(key);
    if (!mayInitiateInApp(caller, body.app)) {
      throw new ForbiddenException({
        code: 'APP_NOT_ALLOWED',
        message: `this token acts for ${caller.app ? `the app "${caller.app}"` : 'no app'}; it cannot ask for a payment in "${body.app}"`,
      });
    }
    // The caller's bucket in a statement of its own (every request counts); the payer's is taken
    // where a new payment is decided, so that replays are free.
    const perCaller = this.config.PAYMENTS_PER_CALLER_PER_MINUTE;
    const taken = await takeToken(sqlOfPool(this.dataSource), `payments:caller:${describeActor(caller)}`, perCaller, new Date());
    if (!taken.allowed) {
      throw rateLimited(
        response,
        taken.retryAfterSeconds,
        `too many payment requests from this caller (at most ${perCaller} a minute): retry after ${taken.retryAfterSeconds} seconds`,
      );
    }
    const outcome = await this.initiatePayment.initiate(toPurchaseRequest(requestId, body), { door: 'http' }).catch((error: unknown) => {
      if (error instanceof PaymentRateLimitedError) throw rateLimited(response, error.retryAfterSeconds, error.message);
      if (!(error instanceof StepUpKeysUnavailableError)) throw error;
      response.setHeader('Retry-After', String(STEP_UP_RETRY_AFTER_SECONDS));
      throw new ServiceUnavailableException({ code: 'STEP_UP_KEYS_UNAVAILABLE', message: error.message });
    });
    return answerIdempotently(response, outcome);
  }
}
