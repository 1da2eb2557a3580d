import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { ActsForPerson, describeActor, Principal, Roles } from '@pay/auth';
import { IsBoolean } from 'class-validator';
import { PersonParams } from '../http/route-params';
import { ConsentView } from '../view-wallet/wallet-view';
import { RecordConsent } from './record-consent.service';

export class ConsentRequest {
  @ApiProperty({ description: 'Whether payment data may be used, aggregated and anonymous, to measure ads.' })
  @IsBoolean()
  granted!: boolean;
}

@ApiTags('consent')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/consents/ad-measurement')
@Roles('person', 'service')
@ActsForPerson()
export class RecordConsentController {
  constructor(private readonly recordConsent: RecordConsent) {}

  @Put()
  @ApiOperation({ summary: 'Grant or withdraw consent to ad measurement with payment data' })
  @ApiOkResponse({ type: ConsentView })
  record(@Param() params: PersonParams, @Body() body: ConsentRequest, @Principal() caller: Caller): Promise<ConsentView> {
    return this.recordConsent.record(params.personId, body.granted, describeActor(caller));
  }
}
