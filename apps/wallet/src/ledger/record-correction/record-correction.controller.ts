import type { Principal as Caller } from '@pay/auth';
import { describeActor, Principal, Roles } from '@pay/auth';
import { Body, Controller, ForbiddenException, Inject, Post, Res, UseFilters, UsePipes } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Account, LedgerCommand } from '@pay/ledger-domain';
import { LedgerError } from '@pay/ledger-domain';
import type { PostgresLedger } from '@pay/ledger-store';
import { inTransaction } from '@pay/platform';
import { DataSource } from 'typeorm';
import { LedgerErrorFilter } from '../http/ledger-error.filter';
import type { StatusResponse } from '../http/ledger-views';
import { EntryView, entryView, markReplay } from '../http/ledger-views';
import { ledgerValidationPipe } from '../http/validation';
import { LEDGER } from '../ledger.tokens';
import { postingInputs } from '../transactions/transactions.controller';
import { refuseAdjustment } from './correction-policy';
import { RecordCorrectionRequest } from './record-correction.dto';

/**
 * The operators' only way to move money in the ledger: a correction with a reason, audited in
 * `ledger_corrections` in the same database transaction as its journal entry.
 */
@ApiTags('ledger')
@ApiBearerAuth()
@Roles('operator')
@Controller('v1/ledger/corrections')
@UsePipes(ledgerValidationPipe)
@UseFilters(LedgerErrorFilter)
export class RecordCorrectionController {
  constructor(
    @Inject(LEDGER) private readonly ledger: PostgresLedger,
    private readonly dataSource: DataSource,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Operators: post a correction (a reversal of a transaction, or an adjustment between named accounts) with a reason, audited',
  })
  @ApiCreatedResponse({ type: EntryView, description: 'Recorded, with its audit record.' })
  @ApiOkResponse({ type: EntryView, description: 'Recorded before under this id with the same content and reason.' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED (no reason, no postings and nothing reversed, ...) or INVALID_INPUT.' })
  @ApiForbiddenResponse({
    description:
      'Not an operator; SYSTEM_ACCOUNT_DEBIT_REFUSED (an adjustment debits a system account); ACCOUNT_NOT_CORRECTABLE (a system account no correction touches).',
  })
  @ApiConflictResponse({ description: 'IDEMPOTENCY_CONFLICT: the id was used for other content, another reason, or a transaction that is not a correction.' })
  @ApiUnprocessableEntityResponse({
    description: 'Refused by the ledger: UNBALANCED, INSUFFICIENT_FUNDS, ACCOUNT_NOT_FOUND, TRANSACTION_NOT_FOUND, REVERSAL_...',
  })
  async record(@Body() body: RecordCorrectionRequest, @Principal() caller: Caller, @Res({ passthrough: true }) response: StatusResponse): Promise<EntryView> {
    const actor = describeActor(caller);
    const kind = body.reverses === undefined ? 'adjustment' : 'reversal';
    if (kind === 'adjustment') await this.checkAdjustment(body);
    // The journal entry names the operator (hash-chained); the free-text reason stays in the audit table.
    const context = { metadata: { correction: kind, correctedBy: actor }, correlationId: body.correlationId, causationId: body.causationId };
    const command: LedgerCommand =
      body.reverses === undefined
        ? { type: 'transfer', transactionId: body.id, postings: postingInputs(body.postings ?? []), ...context }
        : { type: 'reverse', transactionId: body.id, reverses: body.reverses, postings: body.postings && postingInputs(body.postings), ...context };
    const { entry, replayed } = await inTransaction(this.dataSource, async (sql, runner) => {
      const [outcome] = await this.ledger.recordWithin(runner, [{ command }]);
      if (!outcome.ok) throw outcome.error;
      if (outcome.replayed) {
        const [audit] = await sql.query<{ reason: string }>('SELECT reason FROM ledger_corrections WHERE transaction_id = $1', [body.id]);
        if (audit?.reason !== body.reason) {
          throw new LedgerError(
            'IDEMPOTENCY_CONFLICT',
            `transaction ${body.id} was recorded before ${audit ? 'with another reason' : 'and is not a correction'}`,
            {
              transactionId: body.id,
            },
          );
        }
        return outcome;
      }
      await sql.query('INSERT INTO ledger_corrections (transaction_id, kind, reverses, reason, actor, ledger_position) VALUES ($1, $2, $3, $4, $5, $6)', [
        body.id,
        kind,
        body.reverses ?? null,
        body.reason,
        actor,
        outcome.entry.position.toString(),
      ]);
      return outcome;
    });
    markReplay(response, replayed);
    return entryView(entry, replayed);
  }

  private async checkAdjustment(body: RecordCorrectionRequest): Promise<void> {
    const postings = body.postings ?? [];
    const accounts = new Map<string, Account>();
    for (const { accountId } of postings) {
      const account = await this.ledger.findAccount(accountId);
      if (account) accounts.set(accountId, account);
    }
    const refusal = refuseAdjustment(postings, accounts);
    if (refusal === undefined) return;
    if (refusal.code === 'ACCOUNT_NOT_FOUND') throw new LedgerError('ACCOUNT_NOT_FOUND', refusal.message, { accountId: refusal.accountId });
    throw new ForbiddenException({ code: refusal.code, message: refusal.message });
  }
}
