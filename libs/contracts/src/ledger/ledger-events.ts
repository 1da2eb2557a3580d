import { Type } from 'class-transformer';
import type { ValidationOptions } from 'class-validator';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsISO4217CurrencyCode,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { defineEvent } from '../envelope/event-registry';
import { Topics } from '../topics';
import { paymentLinkOf } from './ledger-payment-link';

/** Kinds of journal entries (libs/ledger/domain `ENTRY_KINDS`). */
export const LEDGER_ENTRY_KINDS = ['transfer', 'reversal', 'reserve', 'post_pending', 'void_pending', 'expire_pending'] as const;
export type LedgerEntryKind = (typeof LEDGER_ENTRY_KINDS)[number];

/** How a posting acts: posted money, a hold, or the release of a hold. */
export const LEDGER_POSTING_LAYERS = ['posted', 'pending', 'released'] as const;

/** A positive amount of minor units up to PostgreSQL's bigint, as a decimal string. */
export const POSITIVE_MINOR_UNITS_PATTERN = /^[1-9][0-9]{0,18}$/;

function IsStringMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringMap',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === 'string'),
        defaultMessage: () => '$property must be an object whose values are strings',
      },
    },
    options,
  );
}

export class LedgerPostingData {
  @IsString()
  @Length(1, 128)
  accountId!: string;

  @IsIn(['debit', 'credit'])
  direction!: 'debit' | 'credit';

  /** Integer minor units as a string, e.g. "1250" for 12.50. */
  @IsString()
  @Matches(POSITIVE_MINOR_UNITS_PATTERN, { message: 'amount must be a positive whole number of minor units written as a string' })
  amount!: string;

  /** ISO-4217 code, upper case (the validator alone would also take "eur"). */
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO-4217 code such as EUR or USD' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO-4217 code such as EUR or USD' })
  currency!: string;

  @IsIn(LEDGER_POSTING_LAYERS)
  layer!: (typeof LEDGER_POSTING_LAYERS)[number];
}

/** `data` of `ledger.transaction.recorded` v1: one journal entry, exactly as the ledger recorded it. */
export class LedgerTransactionRecordedData {
  /** The idempotency key the entry was recorded under (`<reservation>:post|void|expire` for resolutions). */
  @IsString()
  @Length(1, 200)
  transactionId!: string;

  @IsIn(LEDGER_ENTRY_KINDS)
  kind!: LedgerEntryKind;

  /** Position in the journal, 1, 2, 3 ... without gaps (a decimal string: it is a bigint). */
  @IsString()
  @Matches(/^[1-9][0-9]{0,18}$/, { message: 'position must be a positive integer written as a string' })
  position!: string;

  @IsISO8601({ strict: true })
  recordedAt!: string;

  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(256)
  @ValidateNested({ each: true })
  @Type(() => LedgerPostingData)
  postings!: LedgerPostingData[];

  /** The transaction this one reverses, for a reversal. */
  @IsOptional()
  @IsString()
  @Length(1, 200)
  reverses?: string;

  /** The reservation a reserve, post, void or expiry belongs to. */
  @IsOptional()
  @IsString()
  @Length(1, 200)
  reservationId?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;

  /** Free key-value notes of the entry; the payment it posts is read with `paymentLinkOf` (ledger-payment-link.ts). */
  @IsStringMap()
  metadata!: Record<string, string>;

  /** SHA-256 of the entry in the journal's hash chain (hex). */
  @Matches(/^[0-9a-f]{64}$/, { message: 'hash must be 64 lower-case hex digits' })
  hash!: string;
}

/**
 * The subject (and so the Kafka key) of a ledger event: the payment it posts (its
 * LedgerPaymentLink), else the reservation it belongs to, else the transaction it reverses, else its
 * own transaction. Ledger events spread over the topic's partitions while each payment's entries
 * (capture, refunds, reservation and its resolution) stay in order on one. `sequence` stays the
 * journal position: increasing within a subject, with gaps (other subjects' entries); a consumer
 * checking it missed nothing of the whole journal reads `data.position` across partitions.
 */
export function ledgerEventSubject(data: Pick<LedgerTransactionRecordedData, 'transactionId' | 'metadata' | 'reservationId' | 'reverses'>): string {
  return paymentLinkOf(data.metadata)?.paymentId || data.reservationId || data.reverses || data.transactionId;
}

export const LedgerTransactionRecorded = defineEvent({
  type: 'ledger.transaction.recorded',
  version: 1,
  topic: Topics.ledgerTransactions,
  dataClass: LedgerTransactionRecordedData,
  description:
    'A transaction appended to the ledger journal (transfer, reversal, reserve, post, void or expiry). Keyed by its payment (else its reservation, reversed transaction or own id): in journal order within that key; `sequence` and `data.position` are the journal position.',
});
