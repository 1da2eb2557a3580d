import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { ActsForPerson, AllowDelegated, describeActor, Principal, Roles } from '@pay/auth';
import type { AppName } from '@pay/contracts';
import { APPS } from '@pay/contracts';
import { ArrayUnique, IsArray, IsBoolean, IsIn } from 'class-validator';
import { ApiError } from '../http/api-error';
import { PersonParams } from '../http/route-params';
import { AppsView } from '../view-wallet/wallet-view';
import { SetPayApps } from './set-pay-apps.service';

const APP_LIST = APPS as unknown as string[];

export class SetAppsRequest {
  @ApiProperty({
    enum: APPS,
    isArray: true,
    example: ['facebook', 'messenger'],
    description: 'The whole set of apps where Pay is active; [] turns it off everywhere.',
  })
  @IsArray()
  @ArrayUnique()
  @IsIn(APP_LIST, { each: true, message: `each app must be one of ${APPS.join(', ')}` })
  apps!: AppName[];
}

export class SetAppRequest {
  @ApiProperty({ description: 'Whether Pay is active in this app.' })
  @IsBoolean()
  enabled!: boolean;
}

export class AppParams extends PersonParams {
  @ApiProperty({ enum: APPS })
  @IsIn(APP_LIST, { message: `app must be one of ${APPS.join(', ')}` })
  app!: AppName;
}

@ApiTags('pay per app')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/apps')
@Roles('person')
@ActsForPerson()
@AllowDelegated()
export class SetPayAppsController {
  constructor(private readonly setPayApps: SetPayApps) {}

  @Put()
  @ApiOperation({ summary: 'Set all apps where Pay is active at once' })
  @ApiOkResponse({ type: AppsView })
  @ApiForbiddenResponse({ type: ApiError, description: "PAY_NOT_AVAILABLE_IN_APP: an app is not live in the person's country." })
  setAll(@Param() params: PersonParams, @Body() body: SetAppsRequest, @Principal() caller: Caller): Promise<AppsView> {
    return this.setPayApps.setAll(params.personId, body.apps, describeActor(caller));
  }

  @Put(':app')
  @ApiOperation({ summary: 'Turn Pay on or off in one app' })
  @ApiOkResponse({ type: AppsView })
  @ApiForbiddenResponse({ type: ApiError, description: 'PAY_NOT_AVAILABLE_IN_APP' })
  setOne(@Param() params: AppParams, @Body() body: SetAppRequest, @Principal() caller: Caller): Promise<AppsView> {
    return this.setPayApps.setOne(params.personId, params.app, body.enabled, describeActor(caller));
  }
}
