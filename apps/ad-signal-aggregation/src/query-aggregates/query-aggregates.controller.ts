import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Public } from '@pay/auth';
import { Advertiser, AdvertiserGuard } from '../advertiser-access/advertiser.guard';
import type { AdvertiserPrincipal } from '../advertiser-access/advertiser-token.verifier';
import { AggregatesPage, AggregatesQuery } from './query-aggregates.dto';
import { QueryAggregates } from './query-aggregates.service';

@ApiTags('ad signals')
@ApiBearerAuth()
@Controller('v1/ad-signals')
// Interim (ADR 0006): libs/auth's global guard refuses the advertiser role it does not know yet, so
// it lets this controller through and AdvertiserGuard authenticates every request instead.
// Once libs/auth knows `advertiser` and `merchants`: @Roles('advertiser') and @Principal().
@Public()
@UseGuards(AdvertiserGuard)
export class QueryAggregatesController {
  constructor(private readonly aggregates: QueryAggregates) {}

  @Get('aggregates')
  @ApiOperation({ summary: "Published aggregates of the advertiser's own merchants (role advertiser, claim merchants)." })
  @ApiOkResponse({ type: AggregatesPage })
  @ApiUnauthorizedResponse({ description: 'No valid access token, or an advertiser token without a "merchants" claim.' })
  @ApiForbiddenResponse({ description: 'Not an advertiser, or PRIVACY_BUDGET_EXHAUSTED.' })
  @ApiNotFoundResponse({ description: 'A merchant the token does not name.' })
  query(@Advertiser() advertiser: AdvertiserPrincipal, @Query() query: AggregatesQuery): Promise<AggregatesPage> {
    return this.aggregates.query(advertiser, query);
  }
}
