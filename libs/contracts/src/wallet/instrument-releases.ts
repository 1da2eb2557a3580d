// class-transformer's @Type reads design-time metadata: the polyfill must load first.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsUUID, Matches, ValidateNested } from 'class-validator';
import { APPS } from '../apps';
import { ID_PATTERN } from '../envelope/ids';
import type { PaymentInstrument } from './payment-instrument';

/** At most this many releases in one `POST /v1/payment-instruments/releases`. */
export const MAX_INSTRUMENT_RELEASES = 64;

/**
 * One release payment-orchestration asks the wallet for: the instrument of `methodId`, for the
 * payment `paymentId` of `personId` in `app`. The same four facts as the single route
 * `GET /v1/wallets/:personId/payment-instruments/:methodId?app=&paymentId=`, released under the same rules.
 */
export class InstrumentReleaseAsk {
  @Matches(ID_PATTERN, { message: 'paymentId must be 1 to 100 of letters, digits, "_", "-", ":" and "."' })
  paymentId!: string;

  @Matches(ID_PATTERN, { message: 'personId must be 1 to 100 of letters, digits, "_", "-", ":" and "."' })
  personId!: string;

  @IsUUID('all', { message: 'methodId must be a UUID' })
  methodId!: string;

  @IsIn(APPS, { message: `app must be one of ${APPS.join(', ')}` })
  app!: string;
}

/** The body of `POST /v1/payment-instruments/releases`: 1 to 64 asks, answered one by one in their order. */
export class InstrumentReleasesRequest {
  @IsArray({ message: 'releases must be a list of {paymentId, personId, methodId, app}' })
  @ArrayMinSize(1, { message: 'releases must name at least one release' })
  @ArrayMaxSize(MAX_INSTRUMENT_RELEASES, { message: `releases must name at most ${MAX_INSTRUMENT_RELEASES} releases` })
  @ValidateNested({ each: true })
  @Type(() => InstrumentReleaseAsk)
  releases!: InstrumentReleaseAsk[];
}

/**
 * The wallet's answer to one ask, with the status the single route would have answered: 200 with
 * the instrument, or a refusal with its code (403/404/409 for good; 503 `PAYMENT_NOT_KNOWN_YET`:
 * ask again after `retryAfterSeconds`).
 */
export interface InstrumentRelease {
  readonly paymentId: string;
  readonly status: number;
  readonly instrument?: PaymentInstrument;
  readonly code?: string;
  readonly message?: string;
  readonly retryAfterSeconds?: number;
}

/** The answer to `POST /v1/payment-instruments/releases`: one release per ask, in the asks' order. */
export interface InstrumentReleasesResponse {
  readonly releases: readonly InstrumentRelease[];
}

/**
 * One item of the wallet's answer as read before its instrument is: the status, the code if it
 * looks like one, and the instrument's body, still to be read with readPaymentInstrument.
 */
export interface InstrumentReleaseRead {
  readonly status: number;
  readonly code?: string;
  readonly instrument?: unknown;
}

const CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/**
 * Reads the wallet's answer to a batch of `paymentIds` (in that order). Throws when the answer
 * does not give exactly one item per ask in the asks' order (then none of them can be trusted);
 * each item's instrument is left to readPaymentInstrument, so one bad item spoils only itself.
 */
export function readInstrumentReleases(body: unknown, paymentIds: readonly string[]): InstrumentReleaseRead[] {
  const releases = typeof body === 'object' && body !== null ? (body as { releases?: unknown }).releases : undefined;
  if (!Array.isArray(releases)) throw new Error('an answer to instrument releases is {releases: [...]}');
  if (releases.length !== paymentIds.length) throw new Error(`${paymentIds.length} releases were asked for, ${releases.length} answered`);
  return releases.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new Error(`releases[${i}] is not an object`);
    const { paymentId, status, code, instrument } = item as Record<string, unknown>;
    if (paymentId !== paymentIds[i]) throw new Error(`releases[${i}] answers another payment than the one asked for at that place`);
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
      throw new Error(`releases[${i}].status must be an HTTP status`);
    return { status, ...(typeof code === 'string' && CODE.test(code) ? { code } : {}), ...(instrument === undefined ? {} : { instrument }) };
  });
}
