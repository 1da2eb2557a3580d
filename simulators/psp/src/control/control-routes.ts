import type { ApiContext } from '../api-context';
import { TEST_PAYMENT_METHODS } from '../payment-methods/test-payment-methods';
import { closeDispute, openDispute } from '../disputes/dispute-control';
import type { FaultPlan, FaultRule } from '../faults/fault-plan';
import { completePaymentIntent, DEBIT_RETURN_CODES, returnDebit } from '../payment-intents/complete-payment-intent';
import { completeSetupIntent } from '../setup-intents/setup-intent-routes';
import { failRefund } from '../refunds/refund-routes';
import type { WebhookOutbox } from '../webhooks/webhook-outbox';

export interface ControlDependencies {
  readonly advanceClock: (ms: number) => string[];
  readonly context: () => ApiContext;
  readonly faults: FaultPlan;
  readonly webhooks: WebhookOutbox;
  readonly snapshot: () => unknown;
  readonly reset: () => void;
}

/** A control request the simulator cannot follow; answered 400 with the reason. */
export class ControlError extends Error {
  override name = 'ControlError';
}

type Body = Record<string, unknown>;

function field<T>(body: Body, name: string, check: (value: unknown) => value is T, expected: string): T | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (!check(value)) throw new ControlError(`${name} must be ${expected}`);
  return value;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';
const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
const isOneOf =
  <T extends string>(...allowed: T[]) =>
  (value: unknown): value is T =>
    typeof value === 'string' && (allowed as string[]).includes(value);

export function faultFrom(body: Body): FaultRule {
  const status = field(body, 'status', isCount, 'an HTTP status');
  const holdMs = field(body, 'holdMs', isCount, 'a number of milliseconds');
  if ((status === undefined) === (holdMs === undefined))
    throw new ControlError('give either status (an HTTP error to answer) or holdMs (how long to hold the answer)');
  return {
    method: field(body, 'method', isOneOf('GET', 'POST'), 'GET or POST'),
    path: field(body, 'path', isString, 'a path prefix such as /v1/refunds'),
    when: field(body, 'when', isOneOf('before', 'after'), 'before or after') ?? 'before',
    effect: status !== undefined ? { type: 'error', status } : { type: 'hold', ms: holdMs as number },
    count: field(body, 'count', isCount, 'a positive integer') ?? 1,
  };
}

/**
 * The control API (`/__control/...`, JSON in and out): what tests of other processes (and
 * people at a terminal) use to steer the simulator. Tests in the same process call the
 * simulator's methods instead; both do the same.
 */
export async function routeControlRequest(dependencies: ControlDependencies, method: string, path: string, body: Body): Promise<unknown> {
  const { faults, webhooks } = dependencies;
  let match: RegExpExecArray | null;
  if (method === 'GET' && path === '/__control/state') return dependencies.snapshot();
  if (method === 'POST' && path === '/__control/reset') {
    dependencies.reset();
    return { reset: true };
  }
  if (method === 'POST' && path === '/__control/clock/advance') {
    const days = field(body, 'days', isCount, 'a whole number of days');
    const ms = field(body, 'ms', isCount, 'a whole number of milliseconds');
    if ((days === undefined) === (ms === undefined)) throw new ControlError('give either days or ms: how far simulated time moves forward');
    try {
      return { answered: dependencies.advanceClock(days !== undefined ? days * 24 * 60 * 60 * 1000 : (ms as number)) };
    } catch (error) {
      throw new ControlError((error as Error).message);
    }
  }
  if (method === 'POST' && path === '/__control/faults') {
    const rule = faultFrom(body);
    try {
      faults.add(rule);
    } catch (error) {
      throw new ControlError((error as Error).message);
    }
    return { fault: rule };
  }
  if (method === 'POST' && path === '/__control/webhooks/policy') {
    const mode = field(body, 'mode', isOneOf('immediate', 'hold'), 'immediate or hold');
    const duplicate = field(body, 'duplicate', isBoolean, 'true or false');
    const delayMs = field(body, 'delayMs', isCount, 'a number of milliseconds');
    return {
      policy: webhooks.setPolicy({
        ...(mode === undefined ? {} : { mode }),
        ...(duplicate === undefined ? {} : { duplicate }),
        ...(delayMs === undefined ? {} : { delayMs }),
      }),
    };
  }
  if (method === 'POST' && path === '/__control/webhooks/release') {
    const order = field(body, 'order', isOneOf('fifo', 'reverse'), 'fifo or reverse');
    const duplicate = field(body, 'duplicate', isBoolean, 'true or false');
    const released = await webhooks.release({ ...(order ? { order } : {}), ...(duplicate === undefined ? {} : { duplicate }) });
    return { released: released.map((event) => ({ id: event.id, type: event.type })) };
  }
  if (method === 'POST' && path === '/__control/webhooks/resend') {
    const eventId = field(body, 'eventId', isString, 'an event id');
    if (!eventId) throw new ControlError('eventId is required');
    await webhooks.resend(eventId);
    return { resent: eventId };
  }
  if (method === 'POST' && (match = /^\/__control\/payment_intents\/([A-Za-z0-9_]+)\/complete$/.exec(path))) {
    const outcome = field(body, 'outcome', isOneOf('succeeded', 'failed'), 'succeeded or failed') ?? 'succeeded';
    const code = field(body, 'code', isOneOf(...DEBIT_RETURN_CODES), DEBIT_RETURN_CODES.join(', '));
    if (code !== undefined && outcome !== 'failed') throw new ControlError('code is for outcome failed: the bank says why it refused the debit');
    return completePaymentIntent(dependencies.context(), match[1], outcome, code);
  }
  if (method === 'POST' && (match = /^\/__control\/setup_intents\/([A-Za-z0-9_]+)\/complete$/.exec(path))) {
    const outcome = field(body, 'outcome', isOneOf('succeeded', 'failed'), 'succeeded or failed') ?? 'succeeded';
    return completeSetupIntent(dependencies.context(), match[1], outcome);
  }
  if (method === 'POST' && (match = /^\/__control\/payment_intents\/([A-Za-z0-9_]+)\/return$/.exec(path))) {
    const code = field(body, 'code', isOneOf(...DEBIT_RETURN_CODES), DEBIT_RETURN_CODES.join(', '));
    return returnDebit(dependencies.context(), match[1], code);
  }
  if (method === 'POST' && (match = /^\/__control\/payment_intents\/([A-Za-z0-9_]+)\/dispute$/.exec(path))) {
    const amount = field(body, 'amount', isCount, 'a whole number of minor units');
    const reason = field(body, 'reason', isString, 'a Stripe dispute reason');
    return openDispute(dependencies.context(), match[1], { ...(amount === undefined ? {} : { amount }), ...(reason ? { reason } : {}) });
  }
  if (method === 'POST' && (match = /^\/__control\/disputes\/([A-Za-z0-9_]+)\/close$/.exec(path))) {
    const status = field(body, 'status', isOneOf('won', 'lost'), 'won or lost');
    if (!status) throw new ControlError('status is required: won or lost');
    return closeDispute(dependencies.context(), match[1], status);
  }
  if (method === 'POST' && (match = /^\/__control\/payment_methods\/(pm_[A-Za-z0-9_]+)\/alias$/.exec(path))) {
    const behavesLike = field(body, 'behavesLike', isString, 'a test payment method, e.g. pm_card_chargeDeclined');
    if (!behavesLike || !Object.hasOwn(TEST_PAYMENT_METHODS, behavesLike))
      throw new ControlError(`behavesLike must be one of ${Object.keys(TEST_PAYMENT_METHODS).join(', ')}`);
    dependencies.context().state.aliases.set(match[1], behavesLike);
    return { id: match[1], behavesLike };
  }
  if (method === 'POST' && (match = /^\/__control\/refunds\/([A-Za-z0-9_]+)\/fail$/.exec(path))) {
    return failRefund(dependencies.context(), match[1], field(body, 'reason', isString, 'a failure reason'));
  }
  throw new ControlError(`no control endpoint ${method} ${path}`);
}
