import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ActsForPerson, AllowDelegated, Roles } from '@pay/auth';
import { ApiError } from '../http/api-error';
import { PersonParams } from '../http/route-params';
import { ViewWallet } from './view-wallet.service';
import { WalletView } from './wallet-view';

@ApiTags('wallet')
@ApiBearerAuth()
@Controller('v1/wallets/:personId')
@Roles('person')
@ActsForPerson()
@AllowDelegated()
export class ViewWalletController {
  constructor(private readonly viewWallet: ViewWallet) {}

  @Get()
  @ApiOperation({ summary: 'Everything the person set in Pay: apps, methods, PIN status, consent, contact (masked)' })
  @ApiOkResponse({ type: WalletView })
  @ApiNotFoundResponse({ type: ApiError, description: 'No such wallet, or not yours.' })
  view(@Param() params: PersonParams): Promise<WalletView> {
    return this.viewWallet.view(params.personId);
  }
}
