import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ActsForPerson, AllowDelegated, Roles } from '@pay/auth';
import { IsIn, IsOptional } from 'class-validator';
import { ApiError } from '../http/api-error';
import { MethodParams, PersonParams } from '../http/route-params';
import { WalletStore } from '../store/wallet-store';
import { PaymentMethodReader } from './payment-method-reader';
import { PaymentMethodView } from './payment-method-view';

export class ListMethodsQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Include removed methods (history).' })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'includeRemoved must be true or false' })
  includeRemoved?: 'true' | 'false';
}

@ApiTags('payment methods')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/payment-methods')
@Roles('person')
@ActsForPerson()
@AllowDelegated()
@ApiNotFoundResponse({ type: ApiError, description: 'No such wallet or method, or not yours.' })
export class ViewPaymentMethodsController {
  constructor(
    private readonly store: WalletStore,
    private readonly reader: PaymentMethodReader,
  ) {}

  @Get()
  @ApiOperation({ summary: "The person's payment methods" })
  @ApiOkResponse({ type: PaymentMethodView, isArray: true })
  async list(@Param() params: PersonParams, @Query() query: ListMethodsQuery): Promise<PaymentMethodView[]> {
    const wallet = await this.store.get(params.personId);
    return this.reader.list(params.personId, wallet.preferred_method_id, query.includeRemoved === 'true');
  }

  @Get(':methodId')
  @ApiOperation({ summary: 'One payment method' })
  @ApiOkResponse({ type: PaymentMethodView })
  async one(@Param() params: MethodParams): Promise<PaymentMethodView> {
    const wallet = await this.store.get(params.personId);
    return this.reader.view(await this.reader.row(params.personId, params.methodId), wallet.preferred_method_id);
  }
}
