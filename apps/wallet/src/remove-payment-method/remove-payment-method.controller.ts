import { Controller, Delete, HttpCode, HttpStatus, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { ActsForPerson, AllowDelegated, describeActor, Principal, Roles } from '@pay/auth';
import { ApiError } from '../http/api-error';
import { MethodParams } from '../http/route-params';
import { RemovePaymentMethod } from './remove-payment-method.service';

@ApiTags('payment methods')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/payment-methods/:methodId')
@Roles('person')
@ActsForPerson()
@AllowDelegated()
export class RemovePaymentMethodController {
  constructor(private readonly removePaymentMethod: RemovePaymentMethod) {}

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Remove a payment method: it can no longer pay; its history stays' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ApiError })
  remove(@Param() params: MethodParams, @Principal() caller: Caller): Promise<void> {
    return this.removePaymentMethod.remove(params.personId, params.methodId, describeActor(caller));
  }
}
