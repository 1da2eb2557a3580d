import { Body, Controller, Param, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { ActsForPerson, AllowDelegated, describeActor, Principal, Roles } from '@pay/auth';
import { IsString, Length } from 'class-validator';
import { ApiError } from '../http/api-error';
import { MethodParams } from '../http/route-params';
import { PaymentMethodView } from '../view-payment-methods/payment-method-view';
import { RenamePaymentMethod } from './rename-payment-method.service';

export class RenameMethodRequest {
  @ApiProperty({ example: 'Travel card', maxLength: 40 })
  @IsString()
  @Length(1, 40)
  label!: string;
}

@ApiTags('payment methods')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/payment-methods/:methodId')
@Roles('person')
@ActsForPerson()
@AllowDelegated()
export class RenamePaymentMethodController {
  constructor(private readonly renamePaymentMethod: RenamePaymentMethod) {}

  @Patch()
  @ApiOperation({ summary: 'Rename a payment method' })
  @ApiOkResponse({ type: PaymentMethodView })
  @ApiNotFoundResponse({ type: ApiError })
  @ApiConflictResponse({ type: ApiError, description: 'PAYMENT_METHOD_REMOVED' })
  rename(@Param() params: MethodParams, @Body() body: RenameMethodRequest, @Principal() caller: Caller): Promise<PaymentMethodView> {
    return this.renamePaymentMethod.rename(params.personId, params.methodId, body.label, describeActor(caller));
  }
}
