import { Body, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { describeActor, Principal } from '@pay/auth';
import { ApiError } from '../http/api-error';
import { PinAttemptRoutes } from '../http/pin-attempt-limit.guard';
import { PersonParams } from '../http/route-params';
import { PasskeyRegistrationOptionsView, PasskeyView, RegisterPasskeyRequest } from '../passkeys/passkey.dto';
import { RegisterPasskey } from './register-passkey.service';

/** Only the person registers their own passkeys (their browser runs the ceremony), never a service for them. */
@PinAttemptRoutes('passkeys', { delegated: false })
@ApiNotFoundResponse({ type: ApiError, description: 'NOT_FOUND: no such wallet, or not yours' })
@ApiResponse({ status: HttpStatus.TOO_MANY_REQUESTS, type: ApiError, description: 'RATE_LIMITED (Retry-After), shared with the PIN routes' })
export class RegisterPasskeyController {
  constructor(private readonly registerPasskey: RegisterPasskey) {}

  @Post('registration-options')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: 'Start registering a passkey: WebAuthn creation options with a single-use challenge (docs/passkeys.md)' })
  @ApiCreatedResponse({ type: PasskeyRegistrationOptionsView })
  @ApiConflictResponse({ type: ApiError, description: 'PASSKEY_LIMIT_REACHED' })
  options(@Param() params: PersonParams, @Principal() caller: Caller): Promise<PasskeyRegistrationOptionsView> {
    return this.registerPasskey.options(params.personId, describeActor(caller));
  }

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: "Finish registering a passkey: verifies the authenticator's attestation (user verification required) and stores the credential" })
  @ApiCreatedResponse({ type: PasskeyView })
  @ApiForbiddenResponse({ type: ApiError, description: 'PASSKEY_NOT_VERIFIED (with reason: challenge-invalid, user-not-verified, invalid-response)' })
  @ApiConflictResponse({ type: ApiError, description: 'PASSKEY_ALREADY_REGISTERED, PASSKEY_LIMIT_REACHED' })
  register(@Param() params: PersonParams, @Body() body: RegisterPasskeyRequest, @Principal() caller: Caller): Promise<PasskeyView> {
    return this.registerPasskey.register(params.personId, body.deviceName, body.credential, describeActor(caller));
  }
}
