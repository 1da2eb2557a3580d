import { Body, HttpCode, HttpStatus, Param, Put } from '@nestjs/common';
import { ApiForbiddenResponse, ApiNoContentResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { describeActor, Principal } from '@pay/auth';
import { ApiError } from '../http/api-error';
import { PinAttemptRoutes } from '../http/pin-attempt-limit.guard';
import { PersonParams } from '../http/route-params';
import { ChangePinRequest } from '../set-pin/pin.dto';
import { ChangePin } from './change-pin.service';

/**
 * The PIN is the person's own secret, set and changed by the person alone (as a passkey is
 * registered): an app's backend that could set a first PIN, or change one, could then confirm its
 * own payments for that person. A service still runs a step-up with the PIN the person typed.
 */
@PinAttemptRoutes('pin', { delegated: false })
export class ChangePinController {
  constructor(private readonly changePin: ChangePin) {}

  @Put()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Change the payment PIN' })
  @ApiNoContentResponse()
  @ApiForbiddenResponse({ type: ApiError, description: 'PIN_INCORRECT (with remainingAttempts)' })
  @ApiResponse({ status: HttpStatus.LOCKED, type: ApiError, description: 'PIN_LOCKED (with lockedUntil), PIN_BLOCKED (until re-verified)' })
  @ApiResponse({ status: HttpStatus.TOO_MANY_REQUESTS, type: ApiError, description: 'RATE_LIMITED (Retry-After)' })
  change(@Param() params: PersonParams, @Body() body: ChangePinRequest, @Principal() caller: Caller): Promise<void> {
    return this.changePin.change(params.personId, body.currentPin, body.newPin, describeActor(caller));
  }
}
