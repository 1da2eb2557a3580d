import { Body, Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { describeActor, Principal, Roles } from '@pay/auth';
import { ApiError } from '../http/api-error';
import { PersonParams } from '../http/route-params';
import { UnblockPinRequest } from './unblock-pin.dto';
import { UnblockPin } from './unblock-pin.service';

@ApiTags('pin')
@ApiBearerAuth()
@Controller('v1/support/wallets/:personId/pin/unblock')
@Roles('operator')
export class UnblockPinController {
  constructor(private readonly unblockPin: UnblockPin) {}

  @Post()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Unblock PIN use after the person was re-verified (operators; audited with the support case)' })
  @ApiNoContentResponse()
  @ApiConflictResponse({ type: ApiError, description: 'PIN_NOT_SET, PIN_NOT_LOCKED' })
  unblock(@Param() params: PersonParams, @Body() body: UnblockPinRequest, @Principal() caller: Caller): Promise<void> {
    return this.unblockPin.unblock(params.personId, body.caseReference, describeActor(caller));
  }
}
