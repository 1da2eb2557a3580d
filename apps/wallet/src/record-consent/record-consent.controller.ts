import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
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

/**
 * Consent is the person's own choice, made in the wallet: a person's token only. No service sets
 * it, not even one acting for the person (an app backend, payment-orchestration): whoever profits
 * from measurement must not be able to opt people in.
 */
@ApiTags('consent')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/consents/ad-measurement')
@Roles('person')
@ActsForPerson()
export class RecordConsentController {
  constructor(private readonly recordConsent: RecordConsent) {}

  @Put()
  @ApiOperation({ summary: 'Grant or withdraw consent to ad measurement with payment data' })
  @ApiOkResponse({ type: ConsentView })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: any caller but the person (services included)' })
  record(@Param() params: PersonParams, @Body() body: ConsentRequest, @Principal() caller: Caller): Promise<ConsentView> {
    return this.recordConsent.record(params.personId, body.granted, describeActor(caller));
  }
}
