import { randomUUID } from 'node:crypto';
import { plainToInstance } from 'class-transformer';
import type { ValidationError } from 'class-validator';
import { validateSync } from 'class-validator';
import type { ServiceName } from './event-envelope';
import { EventEnvelope } from './event-envelope';
import { installValidationMetadataCache } from './validation-metadata-cache';
import { provenValid } from './validation-fast-path';

installValidationMetadataCache();

type DataClass<T extends object = object> = new () => T;

export interface EventDefinition<T extends object = object> {
  type: string;
  version: number;
  topic: string;
  dataClass: DataClass<T>;
  description: string;
}

const definitions = new Map<string, EventDefinition>();

const keyOf = (type: string, version: number): string => `${type}@${version}`;

/** Declares which class validates `data` of an event type and version, and on which topic it travels. */
export function defineEvent<T extends object>(definition: EventDefinition<T>): EventDefinition<T> {
  const key = keyOf(definition.type, definition.version);
  if (definitions.has(key)) throw new Error(`event ${key} is defined twice`);
  definitions.set(key, definition);
  return definition;
}

export function eventDefinitions(): EventDefinition[] {
  return [...definitions.values()];
}

export function findEventDefinition(type: string, version: number): EventDefinition | undefined {
  return definitions.get(keyOf(type, version));
}

/** How long an invalid event's message may grow (it travels as a dead letter's `dlq-reason` header). */
export const INVALID_EVENT_MESSAGE_MAX = 1_500;

/**
 * Every reason, joined, within `max` characters: the reasons that do not fit are counted, never
 * cut in the middle, so a producer sees each problem it can read whole and how many are left.
 */
export function describeInvalidEvent(reasons: readonly string[], max = INVALID_EVENT_MESSAGE_MAX): string {
  const head = `invalid event (${reasons.length} ${reasons.length === 1 ? 'problem' : 'problems'}): `;
  const named: string[] = [];
  let length = head.length;
  for (const [index, reason] of reasons.entries()) {
    const after = reasons.length - index - 1;
    const room = after > 0 ? `; … and ${after} more`.length : 0;
    const separator = named.length > 0 ? 2 : 0;
    if (length + separator + reason.length + room > max) {
      return `${head}${named.join('; ')}${named.length > 0 ? '; ' : ''}… and ${reasons.length - index} more`;
    }
    named.push(reason);
    length += separator + reason.length;
  }
  return head + named.join('; ');
}

/** Thrown for input that is not a valid event; the message names every problem (bounded, see describeInvalidEvent). */
export class InvalidEventError extends Error {
  constructor(readonly reasons: string[]) {
    super(describeInvalidEvent(reasons));
    this.name = 'InvalidEventError';
  }
}

export function flattenValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => `${path}: ${message}`);
    return [...own, ...flattenValidationErrors(error.children ?? [], path)];
  });
}

const VALIDATION = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

/**
 * Turns raw JSON into a validated envelope whose `data` is an instance of its registered class.
 * Every consumer calls this on the way in; unknown types and versions are refused.
 */
export function parseEvent(raw: unknown): EventEnvelope {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidEventError(['the message is not a JSON object']);
  }
  return parseValidEvent(raw) ?? parseEventWithClassValidator(raw);
}

const ENVELOPE_VALIDATION = { ...VALIDATION, skipMissingProperties: false } as const;

/**
 * parseEvent's common case: the same instances, accepted only where class-validator would accept
 * them (provenValid); undefined for anything else, which parseEventWithClassValidator then parses
 * from `raw` again as before, so every refusal and its reasons stay class-validator's.
 */
function parseValidEvent(raw: object): EventEnvelope | undefined {
  const prototype: unknown = Object.getPrototypeOf(raw);
  if (prototype !== Object.prototype && prototype !== null) return undefined; // not JSON's object: class-validator's path
  try {
    // The envelope's copy of `data` is never used (the data class's instance replaces it) and its
    // errors are dropped (the data class judges it), so it is not deep-copied here; class-transformer
    // copies every other key on its own.
    const envelope = plainToInstance(EventEnvelope, { ...raw, data: undefined });
    if (!provenValid(envelope, ENVELOPE_VALIDATION, 'data')) return undefined;
    const definition = findEventDefinition(envelope.type, envelope.version);
    if (!definition) return undefined;
    const data = plainToInstance(definition.dataClass, (raw as { data: unknown }).data);
    if (typeof data !== 'object' || data === null || !provenValid(data, VALIDATION)) return undefined;
    envelope.data = data;
    return envelope;
  } catch {
    return undefined; // a constraint that throws throws again, where class-validator meets it
  }
}

/**
 * parseEvent without its fast path: class-validator decides and names every problem. parseEvent
 * falls back to it; tests and bench:contracts compare the two.
 */
export function parseEventWithClassValidator(raw: unknown): EventEnvelope {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidEventError(['the message is not a JSON object']);
  }
  const envelope = plainToInstance(EventEnvelope, raw);
  // Every problem at once, the envelope's and the data's, so a producer fixes them in one go.
  const errors = flattenValidationErrors(validateSync(envelope, ENVELOPE_VALIDATION).filter((e) => e.property !== 'data'));
  const definition = findEventDefinition(envelope.type, envelope.version);
  if (!definition) {
    if (typeof envelope.type === 'string' && typeof envelope.version === 'number')
      errors.push(`unknown event type ${envelope.type} version ${envelope.version}`);
    throw new InvalidEventError(errors.length > 0 ? errors : [`unknown event type ${String(envelope.type)} version ${String(envelope.version)}`]);
  }
  const data = plainToInstance(definition.dataClass, (raw as { data: unknown }).data);
  if (typeof data !== 'object' || data === null) errors.push('data: must be an object');
  else errors.push(...flattenValidationErrors(validateSync(data, VALIDATION), 'data'));
  if (errors.length > 0) throw new InvalidEventError(errors);
  envelope.data = data;
  return envelope;
}

export interface NewEvent<T extends object> {
  definition: EventDefinition<T>;
  source: ServiceName;
  subject: string;
  sequence: number;
  data: T;
  correlationId?: string;
  causationId?: string;
  id?: string;
  occurredAt?: Date;
}

/**
 * Whether events this process builds are validated before they leave it. Input is validated
 * where it enters (parseEvent on consumption, DTOs at HTTP): an event built here from typed
 * code is not validated again in production, where that cost half of a purchase's class-validator
 * work. Under tests (Jest sets JEST_WORKER_ID; the services a test starts from dist/ run with
 * NODE_ENV=test) it is, so a contract test still catches an event built wrong.
 */
export function outgoingEventsAreValidated(): boolean {
  return process.env.JEST_WORKER_ID !== undefined || process.env.NODE_ENV === 'test';
}

/** Builds an envelope from typed code; validated on the way out under tests (see outgoingEventsAreValidated). */
export function createEvent<T extends object>(event: NewEvent<T>): EventEnvelope<T> {
  const plain = {
    id: event.id ?? randomUUID(),
    type: event.definition.type,
    version: event.definition.version,
    source: event.source,
    subject: event.subject,
    sequence: event.sequence,
    occurredAt: (event.occurredAt ?? new Date()).toISOString(),
    causationId: event.causationId,
    correlationId: event.correlationId ?? randomUUID(),
    data: JSON.parse(JSON.stringify(event.data)) as unknown,
  };
  if (plain.causationId === undefined) delete plain.causationId;
  return (outgoingEventsAreValidated() ? parseEvent(plain) : plain) as EventEnvelope<T>;
}

/** The JSON form of an envelope, as it travels on Kafka. */
export function serializeEvent(envelope: EventEnvelope): string {
  return JSON.stringify(envelope);
}
