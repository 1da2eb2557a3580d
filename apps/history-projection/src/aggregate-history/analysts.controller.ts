import type { ServerResponse } from 'node:http';
import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { Principal, Roles } from '@pay/auth';
import type { Logger } from '@pay/observability';
import { LOGGER } from '@pay/platform';
import { sendCsv } from '../export-history/send-csv';
import { HistoryPageView } from '../query-history/entry-view';
import { exportFilters, readPage } from '../query-history/history.controllers';
import { AggregatesQueryDto, HistoryOrderDto, HistoryPageDto, toFilters } from '../query-history/history-query.dto';
import { HistoryReader } from '../query-history/history-reader';
import { PersonPseudonyms } from '../query-history/person-pseudonyms';
import type { AggregateRequest } from './aggregate-query';
import { AggregatesView } from './aggregate-view';

function aggregateRequest(query: AggregatesQueryDto): AggregateRequest {
  return { interval: query.interval ?? 'day', groupBy: query.groupBy ?? [], filters: toFilters(query) };
}

/**
 * Analysts: everyone's history, aggregates, exports. Read-only; no contact details, no saved
 * method's id, and people only as pseudonyms per analyst organisation (PersonPseudonyms).
 */
@ApiTags('analytics')
@ApiBearerAuth()
@Controller('v1/history')
@Roles('analyst')
export class AnalystsController {
  constructor(
    private readonly reader: HistoryReader,
    private readonly pseudonyms: PersonPseudonyms,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('entries')
  @ApiOperation({ summary: "Everyone's history (counterparty = the payee), filters and cursor pagination" })
  @ApiOkResponse({ type: HistoryPageView })
  entries(@Query() query: HistoryPageDto, @Principal() caller: Caller): Promise<HistoryPageView> {
    return readPage(this.reader, { kind: 'all' }, query, this.pseudonyms.viewFor(caller));
  }

  @Get('entries/export')
  @ApiOperation({ summary: "Everyone's filtered history as CSV, streamed" })
  @ApiProduces('text/csv')
  async export(@Query() query: HistoryOrderDto, @Principal() caller: Caller, @Res() response: ServerResponse): Promise<void> {
    const { filters, order } = exportFilters(query);
    await sendCsv(response, 'history.csv', this.reader.exportCsv({ kind: 'all' }, filters, order, this.pseudonyms.viewFor(caller)), this.logger);
  }

  @Get('aggregates')
  @ApiOperation({ summary: 'Count and sums per day, week or month, by app, country, currency, kind, payment-method type, status' })
  @ApiOkResponse({ type: AggregatesView })
  aggregates(@Query() query: AggregatesQueryDto): Promise<AggregatesView> {
    return this.reader.aggregates(aggregateRequest(query));
  }

  @Get('aggregates/export')
  @ApiOperation({ summary: 'The same aggregates as CSV, streamed' })
  @ApiProduces('text/csv')
  async exportAggregates(@Query() query: AggregatesQueryDto, @Res() response: ServerResponse): Promise<void> {
    await sendCsv(response, 'history-aggregates.csv', this.reader.exportAggregatesCsv(aggregateRequest(query)), this.logger);
  }
}
