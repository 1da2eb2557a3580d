import { Controller, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { ActsForPerson, AllowDelegated, describeActor, Principal, Roles } from '@pay/auth';
import { ApiError } from '../http/api-error';
import { MethodParams } from '../http/route-params';
import { PaymentMethodView } from '../view-payment-methods/payment-method-view';
import { ChoosePreferredMethod } from './choose-preferred-method.service';

@ApiTags('payment methods')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/payment-methods/:methodId/preferred')
@Roles('person')
@ActsForPerson()
@AllowDelegated()
export class ChoosePreferredMethodController {
  constructor(private readonly choosePreferredMethod: ChoosePreferredMethod) {}

  @Put()
  @ApiOperation({ summary: 'Make this the preferred payment method' })
  @ApiOkResponse({ type: PaymentMethodView })
  @ApiNotFoundResponse({ type: ApiError })
  @ApiConflictResponse({ type: ApiError, description: 'PAYMENT_METHOD_REMOVED' })
  choose(@Param() params: MethodParams, @Principal() caller: Caller): Promise<PaymentMethodView> {
    return this.choosePreferredMethod.choose(params.personId, params.methodId, describeActor(caller));
  }
}
