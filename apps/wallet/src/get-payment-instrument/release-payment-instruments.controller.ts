import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { describeActor, Principal, PAYMENT_ORCHESTRATION_SUBJECT, RequireScopes, RequireServiceSubject, Roles } from '@pay/auth';
import type { InstrumentRelease, InstrumentReleasesResponse } from '@pay/contracts';
import { APPS, InstrumentReleaseAsk, InstrumentReleasesRequest, MAX_INSTRUMENT_RELEASES } from '@pay/contracts';
import { ApiError } from '../http/api-error';
import { refusalAnswer } from '../http/wallet-error.filter';
import { INSTRUMENTS_READ, PaymentInstrumentView } from './get-payment-instrument.controller';
import { GetPaymentInstrument } from './get-payment-instrument.service';

/** The OpenAPI face of one ask (validated by the InstrumentReleaseAsk contract it extends). */
export class InstrumentReleaseAskBody extends InstrumentReleaseAsk {
  @ApiProperty({ example: 'pay_01JF3W5Q7A', description: "The payment to charge: it must be this person's, with this method and app, awaiting its charge." })
  declare paymentId: string;

  @ApiProperty({ example: 'person-42', description: 'The payer.' })
  declare personId: string;

  @ApiProperty({ format: 'uuid', description: 'The method the payment names.' })
  declare methodId: string;

  @ApiProperty({ enum: APPS, description: 'The app the payment happens in: Pay must be live there and turned on by the person.' })
  declare app: string;
}

/** The OpenAPI face of the InstrumentReleasesRequest contract (libs/contracts), which validates the body. */
export class InstrumentReleasesBody extends InstrumentReleasesRequest {
  @ApiProperty({ type: [InstrumentReleaseAskBody], minItems: 1, maxItems: MAX_INSTRUMENT_RELEASES })
  declare releases: InstrumentReleaseAskBody[];
}

/** The OpenAPI face of one InstrumentRelease (libs/contracts). */
export class InstrumentReleaseView implements InstrumentRelease {
  @ApiProperty({ description: 'The ask this answers (the answers come in the asks’ order).' })
  paymentId!: string;

  @ApiProperty({
    enum: [200, 403, 404, 409, 503],
    description:
      'What the single route would have answered: 200 with the instrument; 403/404/409 a refusal for good; 503 PAYMENT_NOT_KNOWN_YET: ask again after retryAfterSeconds.',
  })
  status!: number;

  @ApiPropertyOptional({ type: PaymentInstrumentView })
  instrument?: PaymentInstrumentView;

  @ApiPropertyOptional({ example: 'PAYMENT_NOT_FOUND', description: "A refusal's code, as the single route's (and its details: app, country, verification)." })
  code?: string;

  @ApiPropertyOptional()
  message?: string;

  @ApiPropertyOptional({ example: 1 })
  retryAfterSeconds?: number;
}

export class InstrumentReleasesView implements InstrumentReleasesResponse {
  @ApiProperty({ type: [InstrumentReleaseView] })
  releases!: InstrumentReleaseView[];
}

/**
 * Several releases in one request, for payment-orchestration's authorize steps running together:
 * each ask is answered on its own, under exactly the rules of the single route (one code for both:
 * GetPaymentInstrument.releaseAll), with one SELECT and one audit INSERT for all. The person is
 * named in each ask, not in the path: the scope, payment-orchestration's alone, decides.
 */
@ApiTags('payment methods')
@ApiBearerAuth()
@ApiExtraModels(InstrumentReleaseAskBody)
@Controller('v1/payment-instruments/releases')
@Roles('service')
@RequireScopes(INSTRUMENTS_READ)
@RequireServiceSubject(PAYMENT_ORCHESTRATION_SUBJECT)
export class ReleasePaymentInstrumentsController {
  constructor(private readonly getPaymentInstrument: GetPaymentInstrument) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: `Charge data of up to ${MAX_INSTRUMENT_RELEASES} payments' methods, each answered on its own (services only)` })
  @ApiOkResponse({ type: InstrumentReleasesView })
  @ApiBadRequestResponse({ type: ApiError, description: 'VALIDATION_FAILED: nothing was read, released or audited' })
  @ApiForbiddenResponse({ type: ApiError, description: 'FORBIDDEN: not payment-orchestration (subject), or no instruments:read scope' })
  async release(@Body() body: InstrumentReleasesBody, @Principal() caller: Caller): Promise<InstrumentReleasesView> {
    const outcomes = await this.getPaymentInstrument.releaseAll(body.releases, describeActor(caller));
    return {
      releases: outcomes.map((outcome, i) => {
        const { paymentId } = body.releases[i];
        if (!outcome.refused) return { paymentId, status: HttpStatus.OK, instrument: outcome.released };
        const [status, answer] = refusalAnswer(outcome.refused);
        return { ...answer, paymentId, status };
      }),
    };
  }
}
