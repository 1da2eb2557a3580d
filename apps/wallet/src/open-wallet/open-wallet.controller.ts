import { Body, Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { ActsForPerson, AllowDelegated, describeActor, Principal, Roles } from '@pay/auth';
import { IsISO31661Alpha2, Matches } from 'class-validator';
import { ApiError } from '../http/api-error';
import { PersonParams } from '../http/route-params';
import { ViewWallet } from '../view-wallet/view-wallet.service';
import { WalletView } from '../view-wallet/wallet-view';
import { OpenWallet } from './open-wallet.service';

export class OpenWalletRequest {
  @ApiProperty({ example: 'DE', description: 'Where the person lives (ISO 3166-1 alpha-2); Pay must be live there.' })
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an upper-case ISO 3166-1 alpha-2 code, e.g. DE' })
  @IsISO31661Alpha2({ message: 'country must be an ISO 3166-1 alpha-2 code, e.g. DE' })
  country!: string;
}

@ApiTags('wallet')
@ApiBearerAuth()
@Controller('v1/wallets/:personId')
@Roles('person')
@ActsForPerson()
@AllowDelegated()
export class OpenWalletController {
  constructor(
    private readonly openWallet: OpenWallet,
    private readonly viewWallet: ViewWallet,
  ) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: "Open the person's wallet in their country" })
  @ApiCreatedResponse({ type: WalletView })
  @ApiForbiddenResponse({ type: ApiError, description: 'PAY_NOT_AVAILABLE_IN_COUNTRY: Pay is not live in that country yet.' })
  @ApiConflictResponse({ type: ApiError, description: 'WALLET_EXISTS' })
  async open(@Param() params: PersonParams, @Body() body: OpenWalletRequest, @Principal() caller: Caller): Promise<WalletView> {
    await this.openWallet.open(params.personId, body.country, describeActor(caller));
    return this.viewWallet.view(params.personId);
  }
}
