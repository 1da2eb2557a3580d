import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Principal, Roles } from '@pay/auth';
import { AggregatesPage, AggregatesQuery } from './query-aggregates.dto';
import { QueryAggregates } from './query-aggregates.service';

@ApiTags('ad signals')
@ApiBearerAuth()
@Controller('v1/ad-signals')
@Roles('advertiser')
export class QueryAggregatesController {
  constructor(private readonly aggregates: QueryAggregates) {}

  @Get('aggregates')
  @ApiOperation({ summary: "Published aggregates of the advertiser's own merchants (role advertiser, claim merchants)." })
  @ApiOkResponse({ type: AggregatesPage })
  @ApiUnauthorizedResponse({ description: 'No valid access token, or an advertiser token without "merchants" and "org" claims.' })
  @ApiForbiddenResponse({ description: 'Not an advertiser, or PRIVACY_BUDGET_EXHAUSTED.' })
  @ApiNotFoundResponse({ description: 'A merchant the token does not name.' })
  query(@Principal() principal: Principal, @Query() query: AggregatesQuery): Promise<AggregatesPage> {
    // The platform's guard let in advertisers only, each with verified `merchants` and `org` claims.
    return this.aggregates.query(
      { subject: principal.subject, organisation: principal.organisation ?? '', merchants: [...(principal.merchants ?? [])], tokenId: principal.tokenId },
      query,
    );
  }
}
