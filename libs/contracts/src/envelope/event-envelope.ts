import { IsDefined, IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, IsUUID, Length, Matches, Min } from 'class-validator';

export const SERVICES = ['wallet', 'payment-orchestration', 'history-projection', 'ad-signal-aggregation', 'support', 'app'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** `<domain>.<aggregate>.<event>` in lower case, e.g. `payments.payment.captured`. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9_-]*){2,}$/;

/**
 * The one envelope of every event on every topic (DESIGN.md, "The event envelope").
 * `data` is validated by the class registered for `type` and `version` (see event-registry).
 */
export class EventEnvelope<TData extends object = object> {
  /** UUID, the deduplication key of every consumer's inbox. */
  @IsUUID()
  id!: string;

  @IsString()
  @Matches(EVENT_TYPE_PATTERN, { message: 'type must look like <domain>.<aggregate>.<event>, e.g. payments.payment.captured' })
  type!: string;

  @IsInt()
  @Min(1)
  version!: number;

  @IsIn(SERVICES)
  source!: ServiceName;

  /** The aggregate or stream id; it is also the Kafka key, so a stream stays on one partition. */
  @IsString()
  @Length(1, 200)
  subject!: string;

  /** Position of this event in its subject's stream, from 1. */
  @IsInt()
  @Min(1)
  sequence!: number;

  @IsISO8601({ strict: true, strictSeparator: true })
  @Matches(/Z$/, { message: 'occurredAt must be ISO-8601 in UTC (ending in Z)' })
  occurredAt!: string;

  @IsOptional()
  @IsUUID()
  causationId?: string;

  @IsUUID()
  correlationId!: string;

  /** Validated by the class registered for `type` and `version`, not here. */
  @IsDefined()
  @IsObject()
  data!: TData;
}
