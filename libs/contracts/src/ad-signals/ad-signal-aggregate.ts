// class-transformer's @Type reads design-time metadata: the polyfill must load first.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import type { ValidationArguments } from 'class-validator';
import { IsArray, IsIn, IsInt, IsNumber, IsOptional, IsPositive, IsUUID, Matches, Min, ValidateBy, ValidateNested } from 'class-validator';
import { defineEvent } from '../envelope/event-registry';
import { IsOpaqueId } from '../envelope/ids';
import { Money } from '../envelope/money';
import { APPS } from '../payments/purchase-requested';
import { Topics } from '../topics';

/**
 * `ad-signals.aggregates.v1`: one closed window's cell of payment usage at one merchant, published
 * only when at least k distinct consenting people are in it and no published cell or difference
 * of cells reveals a smaller group (docs/privacy.md). It carries no person id, pseudonym, contact
 * detail, card data or time finer than the window: dimensions are codes, times are window bounds.
 *
 * The envelope's `id` is `cellId`, a UUIDv5 of (computation version, window, merchant,
 * dimensions): a replay publishes the same id and consumers deduplicate it. `subject` is
 * `seriesId` (the same cell across windows) and `sequence` the window's number since the epoch.
 */
export const AD_SIGNAL_GRANULARITIES = ['hour', 'day'] as const;
export const AD_SIGNAL_ALL = '*';
export const AD_SIGNAL_PAYMENT_METHOD_TYPES = ['card', 'paypal', 'bank_account', 'stripe_customer', 'wallet_balance', 'unknown', AD_SIGNAL_ALL] as const;
export const AD_SIGNAL_NOISE = ['none', 'laplace'] as const;

const WINDOW_MS = { hour: 3_600_000, day: 86_400_000 } as const;
/** Window bounds are whole hours in UTC; nothing finer is ever published. */
const WINDOW_BOUND = /^\d{4}-\d{2}-\d{2}T\d{2}:00:00\.000Z$/;

function IsWindowOfItsGranularity(): PropertyDecorator {
  return ValidateBy({
    name: 'isWindowOfItsGranularity',
    validator: {
      validate: (_value: unknown, args?: ValidationArguments) => {
        const window = args?.object as AdSignalWindow;
        const size = WINDOW_MS[window.granularity];
        const start = Date.parse(window.start);
        return size !== undefined && start % size === 0 && Date.parse(window.end) - start === size;
      },
      defaultMessage: () => 'end must be one hour (hour) or one day (day) after start, and start aligned to it in UTC',
    },
  });
}

export class AdSignalWindow {
  @IsIn(AD_SIGNAL_GRANULARITIES)
  granularity!: (typeof AD_SIGNAL_GRANULARITIES)[number];

  @Matches(WINDOW_BOUND, { message: 'start must be a whole UTC hour, e.g. 2026-03-02T10:00:00.000Z' })
  start!: string;

  @Matches(WINDOW_BOUND, { message: 'end must be a whole UTC hour, e.g. 2026-03-02T11:00:00.000Z' })
  @IsWindowOfItsGranularity()
  end!: string;
}

/** `*`: the cell adds up every value of the dimension; `unknown`: the input did not say. */
export class AdSignalDimensions {
  @IsIn([...APPS, 'unknown', AD_SIGNAL_ALL])
  app!: string;

  @Matches(/^(\*|unknown|[A-Z]{2})$/, { message: 'country must be an ISO 3166-1 alpha-2 code, unknown or *' })
  country!: string;

  @Matches(/^(\*|unknown|\d{4})$/, { message: 'merchantCategory must be a four-digit ISO 18245 code, unknown or *' })
  merchantCategory!: string;

  @IsIn(AD_SIGNAL_PAYMENT_METHOD_TYPES)
  paymentMethodType!: (typeof AD_SIGNAL_PAYMENT_METHOD_TYPES)[number];

  @Matches(/^(\*|\d{1,18}-\d{1,18}|\d{1,18}\+)$/, { message: 'amountBucket must be a range of minor units such as 1000-4999 or 50000+, or *' })
  amountBucket!: string;
}

export class AdSignalMeasures {
  /** Purchases counted (consent on, not refunded in full, within the per-person bound). */
  @IsInt()
  @Min(0)
  purchases!: number;

  @IsInt()
  @Min(0)
  distinctPeople!: number;

  /** Sums per currency, minor units, sorted by currency. */
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => Money)
  amounts!: Money[];
}

export class AdSignalNoiseScales {
  @IsNumber()
  @IsPositive()
  purchases!: number;

  @IsNumber()
  @IsPositive()
  distinctPeople!: number;

  @IsNumber()
  @IsPositive()
  amounts!: number;
}

/** The rules the cell was published under, so a reader knows what the numbers mean. */
export class AdSignalPrivacy {
  @IsInt()
  @Min(2)
  k!: number;

  @IsInt()
  @Min(1)
  maxPurchasesPerPerson!: number;

  /** `laplace`: the measures carry Laplace noise of the given scales (differential privacy). */
  @IsIn(AD_SIGNAL_NOISE)
  noise!: (typeof AD_SIGNAL_NOISE)[number];

  @IsOptional()
  @IsNumber()
  @IsPositive()
  epsilonPerWindow?: number;

  @IsOptional()
  @IsNumber()
  @IsPositive()
  epsilonPerRelease?: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => AdSignalNoiseScales)
  scales?: AdSignalNoiseScales;
}

export class AdSignalAggregatePublished {
  /** Deterministic per cell and window: the envelope id. */
  @IsUUID()
  cellId!: string;

  /** Deterministic per cell across windows: the envelope subject. */
  @IsUUID()
  seriesId!: string;

  /** The merchant whose sales the cell counts; advertisers see their own merchants only. */
  @IsOpaqueId()
  merchantId!: string;

  @ValidateNested()
  @Type(() => AdSignalWindow)
  window!: AdSignalWindow;

  /** The dimensions the cell breaks down by, `total` for none, e.g. `app` or `app+country`. */
  @Matches(/^(total|[a-zA-Z]+(\+[a-zA-Z]+)*)$/, { message: 'grouping must be total or dimension names joined by +' })
  grouping!: string;

  @ValidateNested()
  @Type(() => AdSignalDimensions)
  dimensions!: AdSignalDimensions;

  @ValidateNested()
  @Type(() => AdSignalMeasures)
  measures!: AdSignalMeasures;

  @ValidateNested()
  @Type(() => AdSignalPrivacy)
  privacy!: AdSignalPrivacy;

  /** Version of the computation; part of the ids. */
  @IsInt()
  @Min(1)
  computation!: number;
}

export const AdSignalAggregatePublishedV1 = defineEvent({
  type: 'ad-signals.aggregate.published',
  version: 1,
  topic: Topics.adSignalAggregates,
  dataClass: AdSignalAggregatePublished,
  description: 'One cell of a closed hour or day window of payment usage at a merchant: k-anonymous, consenting people only, optionally with Laplace noise.',
});
