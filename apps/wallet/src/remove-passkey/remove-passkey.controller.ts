import { Controller, Delete, HttpCode, HttpStatus, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { ActsForPerson, describeActor, Principal, Roles } from '@pay/auth';
import { ApiError } from '../http/api-error';
import { PasskeyParams } from '../passkeys/passkey.dto';
import { RemovePasskey } from './remove-passkey.service';

@ApiTags('passkeys')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/passkeys/:passkeyId')
@Roles('person')
@ActsForPerson()
export class RemovePasskeyController {
  constructor(private readonly removePasskey: RemovePasskey) {}

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Remove a passkey: it confirms nothing from this instant' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ApiError, description: 'NOT_FOUND (not your wallet), PASSKEY_NOT_FOUND' })
  remove(@Param() params: PasskeyParams, @Principal() caller: Caller): Promise<void> {
    return this.removePasskey.remove(params.personId, params.passkeyId, describeActor(caller));
  }
}
