import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ActsForPerson, Roles } from '@pay/auth';
import { ApiError } from '../http/api-error';
import { PersonParams } from '../http/route-params';
import { PasskeyView } from '../passkeys/passkey.dto';
import { PasskeyStore } from '../passkeys/passkey-store';
import { WalletStore } from '../store/wallet-store';

@ApiTags('passkeys')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/passkeys')
@Roles('person')
@ActsForPerson()
export class ViewPasskeysController {
  constructor(
    private readonly wallets: WalletStore,
    private readonly passkeys: PasskeyStore,
  ) {}

  @Get()
  @ApiOperation({ summary: "The person's passkeys, oldest first" })
  @ApiOkResponse({ type: PasskeyView, isArray: true })
  @ApiNotFoundResponse({ type: ApiError, description: 'NOT_FOUND: no such wallet, or not yours' })
  async list(@Param() params: PersonParams): Promise<PasskeyView[]> {
    await this.wallets.get(params.personId);
    return this.passkeys.list(params.personId);
  }
}
