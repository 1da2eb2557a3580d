import { Body, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiNoContentResponse, ApiOperation, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { describeActor, Principal } from '@pay/auth';
import { ApiError } from '../http/api-error';
import { PinAttemptRoutes } from '../http/pin-attempt-limit.guard';
import { PersonParams } from '../http/route-params';
import { SetPinRequest } from './pin.dto';
import { SetPin } from './set-pin.service';

/**
 * The PIN is the person's own secret, set and changed by the person alone (as a passkey is
 * registered): an app's backend that could set a first PIN, or change one, could then confirm its
 * own payments for that person. A service still runs a step-up with the PIN the person typed.
 */
@PinAttemptRoutes('pin', { delegated: false })
export class SetPinController {
  constructor(private readonly setPin: SetPin) {}

  @Post()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Set the payment PIN' })
  @ApiNoContentResponse()
  @ApiConflictResponse({ type: ApiError, description: 'PIN_ALREADY_SET' })
  @ApiTooManyRequestsResponse({ type: ApiError, description: 'RATE_LIMITED (Retry-After)' })
  set(@Param() params: PersonParams, @Body() body: SetPinRequest, @Principal() caller: Caller): Promise<void> {
    return this.setPin.set(params.personId, body.pin, describeActor(caller));
  }
}
