import type { ServerResponse } from 'node:http';
import { BadRequestException, Controller, ForbiddenException, Get, Inject, NotFoundException, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import { actsForMerchant, ActsForPerson, AllowDelegated, NOT_FOUND_BODY, Principal, RequireScopes, Roles } from '@pay/auth';
import type { Principal as Caller } from '@pay/auth';
import { ID_PATTERN } from '@pay/contracts';
import type { Logger } from '@pay/observability';
import { LOGGER } from '@pay/platform';
import { Matches } from 'class-validator';
import { sendCsv } from '../export-history/send-csv';
import { InvalidCursorError } from './cursor';
import { HistoryPageView } from './entry-view';
import type { HistoryFilters, HistoryScope } from './history-query';
import { HistoryOrderDto, HistoryPageDto, HistoryFiltersDto, toFilters } from './history-query.dto';
import type { RowView } from './history-reader';
import { HistoryReader } from './history-reader';
import { PersonPseudonyms } from './person-pseudonyms';
import { ProfileView } from './profile-view';
import { SummaryView } from './summary-view';

const ID_MESSAGE = 'must be 1 to 100 of letters, digits, "_", "-", ":" and "."';

export class PersonParams {
  @Matches(ID_PATTERN, { message: `personId ${ID_MESSAGE}` })
  personId!: string;
}

export class BusinessParams {
  @Matches(ID_PATTERN, { message: `id ${ID_MESSAGE}` })
  id!: string;
}

export const DEFAULT_PAGE_SIZE = 50;

/** Pages and exports, shared by the person, business and analysts' controllers. */
export async function readPage(reader: HistoryReader, scope: HistoryScope, query: HistoryPageDto, view?: RowView): Promise<HistoryPageView> {
  try {
    return await reader.page(scope, toFilters(query), { limit: query.limit ?? DEFAULT_PAGE_SIZE, order: query.order ?? 'desc', cursor: query.cursor }, view);
  } catch (error) {
    if (error instanceof InvalidCursorError) throw new BadRequestException({ code: 'INVALID_CURSOR', message: error.message });
    throw error;
  }
}

type BusinessType = Extract<HistoryScope, { kind: 'counterparty' }>['counterpartyType'];

/** A business's rows: those whose counterparty it is. */
const businessScope = (counterpartyType: BusinessType, counterpartyId: string): Extract<HistoryScope, { kind: 'counterparty' }> => ({
  kind: 'counterparty',
  counterpartyType,
  counterpartyId,
});

export function exportFilters(query: HistoryOrderDto): { filters: HistoryFilters; order: 'asc' | 'desc' } {
  return { filters: toFilters(query), order: query.order ?? 'desc' };
}

/**
 * What a person's token tied to an app (`app`: issued to the app's client, or to its backend acting
 * for the person) may see of their history: that app's entries, never what the person did in the
 * other apps. Asking for other apps only is refused; a person's token without `app` sees every app.
 */
function inCallersApp<T extends { app?: string[] }>(caller: Caller, query: T): T {
  if (caller.role !== 'person' || caller.app === undefined) return query;
  if (query.app !== undefined && query.app.length > 0 && !query.app.includes(caller.app)) {
    throw new ForbiddenException({
      code: 'FORBIDDEN',
      message: `this token reads the person's history in the app ${caller.app} only (app=${caller.app})`,
    });
  }
  return { ...query, app: [caller.app] };
}

/**
 * A person's history across all apps: what they paid and what they received, newest first.
 * A person reads only their own (another id answers 404, like an unknown one); an app's backend
 * reads it only with the person's token it was issued (its own token: 403), in its app only. Not analysts: they know people only
 * by pseudonym (PersonPseudonyms), and a route by real person id would tie the two together.
 */
@ApiTags('history')
@ApiBearerAuth()
@Controller('v1/history/persons/:personId')
@Roles('person')
@ActsForPerson('personId')
@AllowDelegated()
@ApiParam({ name: 'personId', example: 'p-000001' })
export class PersonHistoryController {
  constructor(
    private readonly reader: HistoryReader,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('entries')
  @ApiOperation({ summary: "A person's history: filters, cursor pagination, newest first by default" })
  @ApiOkResponse({ type: HistoryPageView })
  entries(@Param() params: PersonParams, @Query() query: HistoryPageDto, @Principal() caller: Caller): Promise<HistoryPageView> {
    return readPage(this.reader, { kind: 'person', personId: params.personId }, inCallersApp(caller, query));
  }

  @Get('entries/export')
  @ApiOperation({ summary: "A person's filtered history as CSV, streamed" })
  @ApiProduces('text/csv')
  async export(@Param() params: PersonParams, @Query() query: HistoryOrderDto, @Principal() caller: Caller, @Res() response: ServerResponse): Promise<void> {
    const { filters, order } = exportFilters(inCallersApp(caller, query));
    await sendCsv(
      response,
      `history-${params.personId}.csv`,
      this.reader.exportCsv({ kind: 'person', personId: params.personId }, filters, order),
      this.logger,
    );
  }

  @Get('summary')
  @ApiOperation({ summary: 'What the person paid and received per currency, net of refunds and chargebacks (same filters)' })
  @ApiOkResponse({ type: SummaryView })
  summary(@Param() params: PersonParams, @Query() query: HistoryFiltersDto, @Principal() caller: Caller): Promise<SummaryView> {
    return this.reader.summary({ kind: 'person', personId: params.personId }, toFilters(inCallersApp(caller, query)));
  }

  @Get('profile')
  @ApiOperation({ summary: "The person's wallet as history knows it: country, apps, saved methods, whether contact details are on file" })
  @ApiOkResponse({ type: ProfileView })
  profile(@Param() params: PersonParams): Promise<ProfileView> {
    return this.reader.profile(params.personId, true);
  }
}

/**
 * A merchant's or non-profit's history (what they were paid, refunds, chargebacks): the backends
 * acting for it (`history:read`, the business in the token's `merchants`; another's answers 404)
 * and analysts (payers as pseudonyms).
 */
@ApiTags('history')
@ApiBearerAuth()
@Controller('v1/history')
@Roles('service', 'analyst')
@RequireScopes('history:read')
// Every route here is `merchants/:id/…` or `non-profits/:id/…`: the parameter is declared once for all.
@ApiParam({ name: 'id', description: "The merchant's or non-profit's id", example: 'merchant-7' })
export class BusinessHistoryController {
  constructor(
    private readonly reader: HistoryReader,
    private readonly pseudonyms: PersonPseudonyms,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** How the caller sees this business's rows; a service not acting for it gets the 404 of an unknown address. */
  private viewOf(caller: Caller, businessId: string): RowView | undefined {
    if (caller.role === 'service' && !actsForMerchant(caller, businessId)) throw new NotFoundException(NOT_FOUND_BODY);
    return this.pseudonyms.viewFor(caller);
  }

  @Get('merchants/:id/entries')
  @ApiOperation({ summary: "A merchant's history: same filters and pagination" })
  @ApiOkResponse({ type: HistoryPageView })
  async merchantEntries(@Param() params: BusinessParams, @Query() query: HistoryPageDto, @Principal() caller: Caller): Promise<HistoryPageView> {
    return readPage(this.reader, businessScope('merchant', params.id), query, this.viewOf(caller, params.id));
  }

  @Get('merchants/:id/entries/export')
  @ApiOperation({ summary: "A merchant's filtered history as CSV, streamed" })
  @ApiProduces('text/csv')
  async merchantExport(
    @Param() params: BusinessParams,
    @Query() query: HistoryOrderDto,
    @Principal() caller: Caller,
    @Res() response: ServerResponse,
  ): Promise<void> {
    return this.sendExport('merchant', params.id, query, caller, response);
  }

  @Get('merchants/:id/summary')
  @ApiOperation({ summary: 'What the merchant received per currency, net of refunds and chargebacks' })
  @ApiOkResponse({ type: SummaryView })
  async merchantSummary(@Param() params: BusinessParams, @Query() query: HistoryFiltersDto, @Principal() caller: Caller): Promise<SummaryView> {
    this.viewOf(caller, params.id);
    return this.reader.summary(businessScope('merchant', params.id), toFilters(query));
  }

  @Get('non-profits/:id/entries')
  @ApiOperation({ summary: "A non-profit's history (donations): same filters and pagination" })
  @ApiOkResponse({ type: HistoryPageView })
  async nonProfitEntries(@Param() params: BusinessParams, @Query() query: HistoryPageDto, @Principal() caller: Caller): Promise<HistoryPageView> {
    return readPage(this.reader, businessScope('non-profit', params.id), query, this.viewOf(caller, params.id));
  }

  @Get('non-profits/:id/entries/export')
  @ApiOperation({ summary: "A non-profit's filtered history as CSV, streamed" })
  @ApiProduces('text/csv')
  async nonProfitExport(
    @Param() params: BusinessParams,
    @Query() query: HistoryOrderDto,
    @Principal() caller: Caller,
    @Res() response: ServerResponse,
  ): Promise<void> {
    return this.sendExport('non-profit', params.id, query, caller, response);
  }

  @Get('non-profits/:id/summary')
  @ApiOperation({ summary: 'What the non-profit received per currency, net of refunds and chargebacks' })
  @ApiOkResponse({ type: SummaryView })
  async nonProfitSummary(@Param() params: BusinessParams, @Query() query: HistoryFiltersDto, @Principal() caller: Caller): Promise<SummaryView> {
    this.viewOf(caller, params.id);
    return this.reader.summary(businessScope('non-profit', params.id), toFilters(query));
  }

  private async sendExport(type: BusinessType, id: string, query: HistoryOrderDto, caller: Caller, response: ServerResponse): Promise<void> {
    const view = this.viewOf(caller, id);
    const { filters, order } = exportFilters(query);
    await sendCsv(response, `history-${id}.csv`, this.reader.exportCsv(businessScope(type, id), filters, order, view), this.logger);
  }
}
