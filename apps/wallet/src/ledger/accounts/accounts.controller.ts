import { RequireScopes, Roles } from '@pay/auth';
import { BadRequestException, Body, Controller, Get, Inject, Param, Post, Query, Res, UseFilters, UsePipes } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiBearerAuth,
} from '@nestjs/swagger';
import { LedgerError } from '@pay/ledger-domain';
import type { PostgresLedger } from '@pay/ledger-store';
import { LedgerErrorFilter } from '../http/ledger-error.filter';
import type { StatusResponse } from '../http/ledger-views';
import { AccountView, accountView, BalanceView, balanceView, markReplay, StatementView, statementView } from '../http/ledger-views';
import { LEDGER_WRITE } from '../http/ledger-scopes';
import { ledgerValidationPipe } from '../http/validation';
import { LEDGER } from '../ledger.tokens';
import { BalanceQuery, OpenAccountRequest, StatementQuery } from './account.dto';

// Reads are for operators (reconciliation, corrections); no app backend or platform service
// reads accounts over HTTP. Opening one is part of the raw write API (ledger:write): the wallet
// opens its chart of accounts itself, lazily.
@ApiTags('ledger')
@ApiBearerAuth()
@Controller('v1/ledger/accounts')
@UsePipes(ledgerValidationPipe)
@UseFilters(LedgerErrorFilter)
export class AccountsController {
  constructor(@Inject(LEDGER) private readonly ledger: PostgresLedger) {}

  @Post()
  @Roles('service')
  @RequireScopes(LEDGER_WRITE)
  @ApiOperation({ summary: 'Open an account (idempotent by id); scope ledger:write, held by no production caller' })
  @ApiCreatedResponse({ type: AccountView, description: 'Opened.' })
  @ApiOkResponse({ type: AccountView, description: 'Already open with the same definition.' })
  @ApiConflictResponse({ description: 'IDEMPOTENCY_CONFLICT: the id is taken by a different account.' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED or INVALID_INPUT.' })
  async open(@Body() body: OpenAccountRequest, @Res({ passthrough: true }) response: StatusResponse): Promise<AccountView> {
    const { account, created } = await this.ledger.openAccount({
      id: body.id,
      ownerType: body.ownerType,
      ownerId: body.ownerId,
      currency: body.currency,
      normalSide: body.normalSide,
      minBalance: body.minBalance === undefined ? undefined : body.minBalance === null ? null : BigInt(body.minBalance),
      metadata: body.metadata,
    });
    markReplay(response, !created);
    return accountView(account);
  }

  @Get(':id')
  @Roles('operator')
  @ApiOperation({ summary: 'An account' })
  @ApiOkResponse({ type: AccountView })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  async get(@Param('id') id: string): Promise<AccountView> {
    const account = await this.ledger.findAccount(id);
    if (!account) throw new LedgerError('ACCOUNT_NOT_FOUND', `account ${id} does not exist`, { accountId: id });
    return accountView(account);
  }

  @Get(':id/balance')
  @Roles('operator')
  @ApiOperation({ summary: 'Posted, pending and available balance, now or as of a journal position or a time' })
  @ApiOkResponse({ type: BalanceView })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  async balance(@Param('id') id: string, @Query() query: BalanceQuery): Promise<BalanceView> {
    if (query.asOfPosition !== undefined && query.asOf !== undefined) {
      throw new BadRequestException({ code: 'VALIDATION_FAILED', message: 'give asOfPosition or asOf, not both' });
    }
    if (query.asOfPosition !== undefined) return balanceView(await this.ledger.balanceAsOf(id, { position: BigInt(query.asOfPosition) }));
    if (query.asOf !== undefined) return balanceView(await this.ledger.balanceAsOf(id, { timestamp: new Date(query.asOf) }));
    return balanceView(await this.ledger.balance(id));
  }

  @Get(':id/statement')
  @Roles('operator')
  @ApiOperation({ summary: 'Entries of the account in journal order with the running balance, a page at a time' })
  @ApiOkResponse({ type: StatementView })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  async statement(@Param('id') id: string, @Query() query: StatementQuery): Promise<StatementView> {
    return statementView(await this.ledger.statement(id, { cursor: query.cursor, limit: query.limit }));
  }
}
