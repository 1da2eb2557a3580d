import { RequireScopes, Roles } from '@pay/auth';
import { BadRequestException, Body, Controller, Inject, Param, Post, Res, UseFilters, UsePipes } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
  ApiBearerAuth,
} from '@nestjs/swagger';
import type { PostgresLedger } from '@pay/ledger-store';
import { LedgerErrorFilter } from '../http/ledger-error.filter';
import type { StatusResponse } from '../http/ledger-views';
import { EntryView, entryView, markReplay } from '../http/ledger-views';
import { LEDGER_WRITE } from '../http/ledger-scopes';
import { refuseSystemDebits } from '../http/system-accounts';
import { ledgerValidationPipe } from '../http/validation';
import { LEDGER } from '../ledger.tokens';
import { PostReservationRequest, ReserveRequest, VoidReservationRequest } from './reservation.dto';

// Two-phase transfers over HTTP: only a service holding ledger:write, which no production caller
// holds (orchestration reserves through wallet.commands.v1; docs/security.md).
@ApiTags('ledger')
@ApiBearerAuth()
@Roles('service')
@RequireScopes(LEDGER_WRITE)
@Controller('v1/ledger/reservations')
@UsePipes(ledgerValidationPipe)
@UseFilters(LedgerErrorFilter)
export class ReservationsController {
  constructor(@Inject(LEDGER) private readonly ledger: PostgresLedger) {}

  @Post()
  @ApiOperation({ summary: 'Reserve funds (phase one of a two-phase transfer): held until posted, voided or expired' })
  @ApiCreatedResponse({ type: EntryView })
  @ApiOkResponse({ type: EntryView, description: 'Reserved before under this id with the same content.' })
  @ApiConflictResponse({ description: 'IDEMPOTENCY_CONFLICT' })
  @ApiUnprocessableEntityResponse({ description: 'INSUFFICIENT_FUNDS, CURRENCY_MISMATCH, ACCOUNT_NOT_FOUND, ...' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED or INVALID_INPUT (e.g. an expiry in the past).' })
  @ApiForbiddenResponse({ description: 'Not a service holding ledger:write; SYSTEM_ACCOUNT_DEBIT_REFUSED: the held account is a system account.' })
  async reserve(@Body() body: ReserveRequest, @Res({ passthrough: true }) response: StatusResponse): Promise<EntryView> {
    if ((body.expiresAt === undefined) === (body.ttlSeconds === undefined)) {
      throw new BadRequestException({ code: 'VALIDATION_FAILED', message: 'give exactly one of expiresAt and ttlSeconds' });
    }
    await refuseSystemDebits((id) => this.ledger.findAccount(id), [body.debitAccountId]);
    const expiresAt = body.expiresAt !== undefined ? new Date(body.expiresAt) : new Date(Date.now() + (body.ttlSeconds as number) * 1000);
    const { entry, replayed } = await this.ledger.record({
      type: 'reserve',
      transactionId: body.id,
      debitAccountId: body.debitAccountId,
      creditAccountId: body.creditAccountId,
      amount: BigInt(body.amount),
      currency: body.currency,
      expiresAt,
      metadata: body.metadata,
      correlationId: body.correlationId,
      causationId: body.causationId,
    });
    markReplay(response, replayed);
    return entryView(entry, replayed);
  }

  @Post(':id/post')
  @ApiOperation({ summary: 'Post a reservation, in full or in part (the rest is released)' })
  @ApiCreatedResponse({ type: EntryView })
  @ApiOkResponse({ type: EntryView, description: 'Posted before with the same amount.' })
  @ApiConflictResponse({ description: 'IDEMPOTENCY_CONFLICT: posted before with another amount.' })
  @ApiNotFoundResponse({ description: 'RESERVATION_NOT_FOUND' })
  @ApiUnprocessableEntityResponse({ description: 'RESERVATION_NOT_PENDING, RESERVATION_EXPIRED, AMOUNT_EXCEEDS_RESERVATION' })
  async post(@Param('id') id: string, @Body() body: PostReservationRequest, @Res({ passthrough: true }) response: StatusResponse): Promise<EntryView> {
    const { entry, replayed } = await this.ledger.record({
      type: 'post_reservation',
      reservationId: id,
      amount: body.amount === undefined ? undefined : BigInt(body.amount),
      metadata: body.metadata,
      correlationId: body.correlationId,
      causationId: body.causationId,
    });
    markReplay(response, replayed);
    return entryView(entry, replayed);
  }

  @Post(':id/void')
  @ApiOperation({ summary: 'Void a reservation: the hold is released, nothing moves' })
  @ApiCreatedResponse({ type: EntryView })
  @ApiOkResponse({ type: EntryView, description: 'Voided before.' })
  @ApiNotFoundResponse({ description: 'RESERVATION_NOT_FOUND' })
  @ApiUnprocessableEntityResponse({ description: 'RESERVATION_NOT_PENDING, RESERVATION_EXPIRED' })
  async void(@Param('id') id: string, @Body() body: VoidReservationRequest, @Res({ passthrough: true }) response: StatusResponse): Promise<EntryView> {
    const { entry, replayed } = await this.ledger.record({
      type: 'void_reservation',
      reservationId: id,
      metadata: body.metadata,
      correlationId: body.correlationId,
      causationId: body.causationId,
    });
    markReplay(response, replayed);
    return entryView(entry, replayed);
  }
}
