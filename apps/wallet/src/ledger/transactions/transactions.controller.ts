import { RequireScopes, Roles } from '@pay/auth';
import { Body, Controller, Inject, Post, Res, UseFilters, UsePipes } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
  ApiBearerAuth,
} from '@nestjs/swagger';
import type { LedgerCommand, PostingInput } from '@pay/ledger-domain';
import type { PostgresLedger } from '@pay/ledger-store';
import { LedgerErrorFilter } from '../http/ledger-error.filter';
import type { StatusResponse } from '../http/ledger-views';
import { EntryView, entryView, markReplay } from '../http/ledger-views';
import { LEDGER_WRITE } from '../http/ledger-scopes';
import { refuseSystemDebits } from '../http/system-accounts';
import { ledgerValidationPipe } from '../http/validation';
import { LEDGER } from '../ledger.tokens';
import type { PostingRequest } from './post-transaction.dto';
import { PostTransactionRequest } from './post-transaction.dto';

export function postingInputs(postings: readonly PostingRequest[]): PostingInput[] {
  return postings.map((p) => ({ accountId: p.accountId, direction: p.direction, amount: BigInt(p.amount), currency: p.currency }));
}

// The raw write API: no app backend, person or operator (operators post corrections); only a
// service holding ledger:write, which no production caller holds (docs/security.md).
@ApiTags('ledger')
@ApiBearerAuth()
@Roles('service')
@RequireScopes(LEDGER_WRITE)
@Controller('v1/ledger/transactions')
@UsePipes(ledgerValidationPipe)
@UseFilters(LedgerErrorFilter)
export class TransactionsController {
  constructor(@Inject(LEDGER) private readonly ledger: PostgresLedger) {}

  @Post()
  @ApiOperation({
    summary: 'Post a transaction, or a reversal of one (accepted whole or refused whole); scope ledger:write, held by no production caller',
  })
  @ApiCreatedResponse({ type: EntryView, description: 'Recorded.' })
  @ApiOkResponse({ type: EntryView, description: 'Recorded before under this id with the same content (header Idempotent-Replayed: true).' })
  @ApiConflictResponse({ description: 'IDEMPOTENCY_CONFLICT: the id was used for different content.' })
  @ApiUnprocessableEntityResponse({
    description: 'Refused, with the reason code: UNBALANCED, INSUFFICIENT_FUNDS, CURRENCY_MISMATCH, ACCOUNT_NOT_FOUND, REVERSAL_...',
  })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED or INVALID_INPUT.' })
  @ApiForbiddenResponse({
    description: 'Not a service holding ledger:write (app backends and operators never are); SYSTEM_ACCOUNT_DEBIT_REFUSED: a transfer debits a system account.',
  })
  async post(@Body() body: PostTransactionRequest, @Res({ passthrough: true }) response: StatusResponse): Promise<EntryView> {
    if (body.reverses === undefined) {
      const debited = (body.postings ?? []).filter((p) => p.direction === 'debit').map((p) => p.accountId);
      await refuseSystemDebits((id) => this.ledger.findAccount(id), debited);
    }
    const context = { metadata: body.metadata, correlationId: body.correlationId, causationId: body.causationId };
    const command: LedgerCommand =
      body.reverses === undefined
        ? { type: 'transfer', transactionId: body.id, postings: postingInputs(body.postings ?? []), ...context }
        : { type: 'reverse', transactionId: body.id, reverses: body.reverses, postings: body.postings && postingInputs(body.postings), ...context };
    const { entry, replayed } = await this.ledger.record(command);
    markReplay(response, replayed);
    return entryView(entry, replayed);
  }
}
