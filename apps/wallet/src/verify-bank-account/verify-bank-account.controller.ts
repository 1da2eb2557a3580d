import { Body, Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { ActsForPerson, AllowDelegated, describeActor, Principal, Roles } from '@pay/auth';
import { ArrayMaxSize, ArrayMinSize, IsInt, IsOptional, Matches, Max, Min, ValidateIf } from 'class-validator';
import { WalletError } from '../domain/wallet-error';
import { ApiError } from '../http/api-error';
import { MethodParams } from '../http/route-params';
import { PaymentMethodView } from '../view-payment-methods/payment-method-view';
import { VerifyBankAccount } from './verify-bank-account.service';

/** What the person read on their bank statement: the deposit's descriptor code, or the two amounts. Exactly one. */
export class VerifyMicrodepositsRequest {
  @ApiPropertyOptional({ example: 'SM11AA', description: 'The 6-character code starting with SM in the descriptor of the first micro-deposit.' })
  @IsOptional()
  @Matches(/^SM[A-Z0-9]{4}$/, { message: 'descriptorCode must be the 6 characters starting with SM from the micro-deposit, e.g. SM11AA' })
  descriptorCode?: string;

  @ApiPropertyOptional({ example: [32, 45], type: [Number], description: 'The two micro-deposits, in cents (1 to 99 each).' })
  @ValidateIf((request: VerifyMicrodepositsRequest) => request.amounts !== undefined)
  @ArrayMinSize(2, { message: 'amounts must be the two micro-deposits, in cents' })
  @ArrayMaxSize(2, { message: 'amounts must be the two micro-deposits, in cents' })
  @IsInt({ each: true, message: 'amounts must be whole numbers of cents' })
  @Min(1, { each: true, message: 'amounts are 1 to 99 cents each' })
  @Max(99, { each: true, message: 'amounts are 1 to 99 cents each' })
  amounts?: number[];
}

@ApiTags('payment methods')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/payment-methods/:methodId/microdeposits')
// Its owner, or an app's backend acting for them (as the account was saved); never a platform service's own identity.
@Roles('person')
@ActsForPerson()
@AllowDelegated()
export class VerifyBankAccountController {
  constructor(private readonly verifyBankAccount: VerifyBankAccount) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Verify a US bank account with the micro-deposits sent to it (its owner only); until then it cannot pay',
  })
  @ApiOkResponse({ type: PaymentMethodView, description: 'Verified: `verification` is `verified`.' })
  @ApiBadRequestResponse({ type: ApiError, description: 'VALIDATION_FAILED; MICRODEPOSITS_MISMATCH (wrong code or amounts: try again)' })
  @ApiNotFoundResponse({ type: ApiError })
  @ApiConflictResponse({
    type: ApiError,
    description: 'BANK_ACCOUNT_ALREADY_VERIFIED, VERIFICATION_ATTEMPTS_EXCEEDED (save the account again), NOTHING_TO_VERIFY, PAYMENT_METHOD_REMOVED',
  })
  @ApiServiceUnavailableResponse({ type: ApiError, description: 'BANK_VERIFICATION_UNAVAILABLE: the payment provider could not be reached; try again' })
  verify(@Param() params: MethodParams, @Body() body: VerifyMicrodepositsRequest, @Principal() caller: Caller): Promise<PaymentMethodView> {
    if ((body.descriptorCode === undefined) === (body.amounts === undefined))
      throw new WalletError('invalid', 'VALIDATION_FAILED', 'give either descriptorCode or amounts, not both and not neither');
    const proof = body.descriptorCode !== undefined ? { descriptorCode: body.descriptorCode } : { amounts: [body.amounts![0], body.amounts![1]] as const };
    return this.verifyBankAccount.verify(params.personId, params.methodId, proof, describeActor(caller));
  }
}
