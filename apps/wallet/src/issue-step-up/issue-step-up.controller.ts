import { Body, Controller, Get, HttpCode, HttpStatus, Inject, Param, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { describeActor, Principal, Public } from '@pay/auth';
import type { StepUpProofSigner } from '@pay/auth/step-up-signer';
import type { JSONWebKeySet } from 'jose';
import { ApiError } from '../http/api-error';
import { PinAttemptRoutes } from '../http/pin-attempt-limit.guard';
import { PersonParams } from '../http/route-params';
import { STEP_UP_SIGNER } from '../wallet-settings.tokens';
import { IssueStepUp } from './issue-step-up.service';
import { PasskeyAuthenticationOptionsView } from '../passkeys/passkey.dto';
import { BiometricStepUpOptionsRequest, BiometricStepUpRequest, PinStepUpRequest, StepUpProofView } from './step-up.dto';

@PinAttemptRoutes('step-up', { delegated: true })
export class IssueStepUpController {
  constructor(private readonly issueStepUp: IssueStepUp) {}

  @Post('pin')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: 'Confirm a payment with the PIN; returns a short-lived step-up proof' })
  @ApiCreatedResponse({ type: StepUpProofView })
  @ApiForbiddenResponse({ type: ApiError, description: 'PIN_INCORRECT (with remainingAttempts), PAY_NOT_AVAILABLE_IN_COUNTRY' })
  @ApiResponse({ status: HttpStatus.LOCKED, type: ApiError, description: 'PIN_LOCKED (with lockedUntil), PIN_BLOCKED (until re-verified)' })
  @ApiResponse({ status: HttpStatus.TOO_MANY_REQUESTS, type: ApiError, description: 'RATE_LIMITED (Retry-After)' })
  withPin(@Param() params: PersonParams, @Body() body: PinStepUpRequest, @Principal() caller: Caller): Promise<StepUpProofView> {
    return this.issueStepUp.withPin(params.personId, body.pin, body.ceiling, describeActor(caller));
  }

  @Post('biometric/options')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary: "Start confirming a payment with a passkey: WebAuthn request options over the person's passkeys, with a challenge bound to the ceiling",
  })
  @ApiCreatedResponse({ type: PasskeyAuthenticationOptionsView })
  @ApiConflictResponse({ type: ApiError, description: 'PASSKEY_NOT_REGISTERED' })
  @ApiForbiddenResponse({ type: ApiError, description: 'PAY_NOT_AVAILABLE_IN_COUNTRY' })
  @ApiResponse({ status: HttpStatus.TOO_MANY_REQUESTS, type: ApiError, description: 'RATE_LIMITED (Retry-After)' })
  biometricOptions(
    @Param() params: PersonParams,
    @Body() body: BiometricStepUpOptionsRequest,
    @Principal() caller: Caller,
  ): Promise<PasskeyAuthenticationOptionsView> {
    return this.issueStepUp.passkeyOptions(params.personId, body.ceiling, describeActor(caller));
  }

  @Post('biometric')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: 'Confirm a payment with a passkey (user verification required); returns the same step-up proof as the PIN' })
  @ApiCreatedResponse({ type: StepUpProofView })
  @ApiForbiddenResponse({
    type: ApiError,
    description:
      'PASSKEY_NOT_VERIFIED (with reason: challenge-invalid, ceiling-mismatch, unknown-credential, user-not-verified, counter-regressed, invalid-response), PAY_NOT_AVAILABLE_IN_COUNTRY',
  })
  @ApiResponse({ status: HttpStatus.TOO_MANY_REQUESTS, type: ApiError, description: 'RATE_LIMITED (Retry-After)' })
  withBiometric(@Param() params: PersonParams, @Body() body: BiometricStepUpRequest, @Principal() caller: Caller): Promise<StepUpProofView> {
    return this.issueStepUp.withPasskey(params.personId, body.credential, body.ceiling, describeActor(caller));
  }
}

/** Where payment services fetch the keys that verify step-up proofs (STEP_UP_JWKS_URL). */
@ApiTags('step-up')
@Controller('.well-known')
@Public()
export class StepUpKeysController {
  constructor(@Inject(STEP_UP_SIGNER) private readonly signer: StepUpProofSigner) {}

  @Get('step-up-jwks.json')
  @ApiOperation({ summary: 'Public keys of step-up proofs (JWKS)' })
  @ApiOkResponse({ description: 'A JSON Web Key Set' })
  keys(): JSONWebKeySet {
    return this.signer.publicKeySet();
  }
}
