import { Controller, Get, Param, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { ActsForPerson, describeActor, Principal, PAYMENT_ORCHESTRATION_SUBJECT, RequireScopes, RequireServiceSubject, Roles } from '@pay/auth';
import type { PaymentInstrument, PaymentInstrumentCredentials, PaymentMethodKind } from '@pay/contracts';
import { APPS, ID_PATTERN, PAYMENT_METHOD_KINDS } from '@pay/contracts';
import { IsIn, Matches } from 'class-validator';
import { ApiError } from '../http/api-error';
import { MethodParams, PersonParams } from '../http/route-params';
import { GetPaymentInstrument } from './get-payment-instrument.service';

/** The scope that releases a person's charge data: payment-orchestration's alone. */
export const INSTRUMENTS_READ = 'instruments:read';

export class InstrumentQuery {
  @ApiProperty({ enum: APPS, description: 'The app the payment happens in: Pay must be live there and turned on by the person.' })
  @IsIn(APPS, { message: `app must be one of ${APPS.join(', ')}` })
  app!: string;

  @ApiProperty({ example: 'pay_01JF3W5Q7A', description: "The payment to charge: it must be this person's, with this method and app, awaiting its charge." })
  @Matches(ID_PATTERN, { message: 'paymentId must be 1 to 100 of letters, digits, "_", "-", ":" and "."' })
  paymentId!: string;
}

/** The OpenAPI face of the PaymentInstrument contract (libs/contracts), which orchestration validates what it reads with. */
export class PaymentInstrumentView implements PaymentInstrument {
  @ApiProperty({ format: 'uuid' })
  methodId!: string;

  @ApiProperty({ enum: PAYMENT_METHOD_KINDS })
  kind!: PaymentMethodKind;

  @ApiProperty({
    example: { pspToken: 'pm_1QdE2xLkdIwHu7ix0g1N2abc' },
    description:
      'What the PSP charges: pspToken (and customer) for a card or Stripe customer; vaultToken (and payerId) for PayPal; iban, holderName (and bic) for a SEPA account; routingNumber, accountNumber, accountType and holderName for a US account.',
  })
  credentials!: PaymentInstrumentCredentials;
}

/**
 * For the payment service only: it charges the method; persons never see credentials. The scope
 * alone does not do (an identity provider's key may sign it for anyone): the caller must be
 * payment-orchestration's subject too. Released only for a payment of the person awaiting its
 * charge with that method, and audited (docs/security.md).
 */
@ApiTags('payment methods')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/payment-instruments')
@Roles('service')
@RequireScopes(INSTRUMENTS_READ)
@RequireServiceSubject(PAYMENT_ORCHESTRATION_SUBJECT)
@ActsForPerson()
@ApiForbiddenResponse({
  type: ApiError,
  description: 'FORBIDDEN (not payment-orchestration, or no instruments:read scope), PAY_NOT_AVAILABLE_IN_COUNTRY / _IN_APP, PAY_NOT_ACTIVE_IN_APP',
})
@ApiNotFoundResponse({ type: ApiError, description: 'NOT_FOUND, PAYMENT_METHOD_NOT_FOUND, PAYMENT_NOT_FOUND (no such payment of this person, method and app)' })
@ApiConflictResponse({
  type: ApiError,
  description: 'PAYMENT_METHOD_REMOVED, NO_PREFERRED_METHOD, PAYMENT_NOT_AWAITING_CHARGE (charged, failed or cancelled already)',
})
@ApiServiceUnavailableResponse({ type: ApiError, description: 'PAYMENT_NOT_KNOWN_YET: the wallet has not seen the payment yet; ask again after Retry-After' })
export class GetPaymentInstrumentController {
  constructor(private readonly getPaymentInstrument: GetPaymentInstrument) {}

  @Get('preferred')
  @ApiOperation({ summary: "Charge data of the person's preferred method (services only)" })
  @ApiOkResponse({ type: PaymentInstrumentView })
  preferred(@Param() params: PersonParams, @Query() query: InstrumentQuery, @Principal() caller: Caller): Promise<PaymentInstrumentView> {
    return this.getPaymentInstrument.get(params.personId, 'preferred', query.app, { paymentId: query.paymentId, caller: describeActor(caller) });
  }

  @Get(':methodId')
  @ApiOperation({ summary: 'Charge data of one method (services only); a removed method cannot pay' })
  @ApiOkResponse({ type: PaymentInstrumentView })
  one(@Param() params: MethodParams, @Query() query: InstrumentQuery, @Principal() caller: Caller): Promise<PaymentInstrumentView> {
    return this.getPaymentInstrument.get(params.personId, params.methodId, query.app, { paymentId: query.paymentId, caller: describeActor(caller) });
  }
}
