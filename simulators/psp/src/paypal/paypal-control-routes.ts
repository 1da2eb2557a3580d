import { ControlError } from '../control/control-routes';
import type { PayPalSimulator } from './paypal-simulator';
import { PAYPAL_TEST_VAULT_TOKENS } from './paypal-simulator';

type Body = Record<string, unknown>;

const oneOf = <T extends string>(body: Body, name: string, allowed: readonly T[]): T | undefined => {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw new ControlError(`${name} must be one of ${allowed.join(', ')}`);
  return value as T;
};

const flag = (body: Body, name: string): boolean | undefined => {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ControlError(`${name} must be true or false`);
  return value;
};

/**
 * The PayPal half of the control API (`/__control/paypal/...`); faults are shared with Stripe's
 * (`POST /__control/faults` with a PayPal path such as `/v2/checkout/orders`). Undefined for a
 * path that is not PayPal's.
 */
export async function routePayPalControlRequest(paypal: PayPalSimulator, method: string, path: string, body: Body): Promise<unknown> {
  let match: RegExpExecArray | null;
  if (!path.startsWith('/__control/paypal/')) return undefined;
  if (method === 'GET' && path === '/__control/paypal/state') return paypal.snapshot();
  if (method === 'POST' && path === '/__control/paypal/webhooks/policy') {
    const mode = oneOf(body, 'mode', ['immediate', 'hold'] as const);
    const duplicate = flag(body, 'duplicate');
    const delayMs = body.delayMs;
    if (delayMs !== undefined && !(Number.isInteger(delayMs) && (delayMs as number) >= 0)) throw new ControlError('delayMs must be a number of milliseconds');
    return {
      policy: paypal.setWebhookPolicy({
        ...(mode === undefined ? {} : { mode }),
        ...(duplicate === undefined ? {} : { duplicate }),
        ...(delayMs === undefined ? {} : { delayMs: delayMs as number }),
      }),
    };
  }
  if (method === 'POST' && path === '/__control/paypal/webhooks/release') {
    const order = oneOf(body, 'order', ['fifo', 'reverse'] as const);
    const duplicate = flag(body, 'duplicate');
    const released = await paypal.webhooks.release({ ...(order ? { order } : {}), ...(duplicate === undefined ? {} : { duplicate }) });
    return { released: released.map((event) => ({ id: event.id, type: event.event_type })) };
  }
  if (method === 'POST' && path === '/__control/paypal/access-tokens/revoke') {
    paypal.revokeAccessTokens();
    return { revoked: true };
  }
  if (method === 'POST' && (match = /^\/__control\/paypal\/captures\/([A-Za-z0-9]+)\/complete$/.exec(path))) {
    const outcome = oneOf(body, 'outcome', ['COMPLETED', 'DECLINED'] as const) ?? 'COMPLETED';
    try {
      return paypal.completeCapture(match[1], outcome);
    } catch (error) {
      throw new ControlError((error as Error).message);
    }
  }
  if (method === 'POST' && (match = /^\/__control\/paypal\/captures\/([A-Za-z0-9]+)\/dispute$/.exec(path))) {
    const amount = body.amount;
    if (amount !== undefined && !(typeof amount === 'string' && /^[1-9][0-9]{0,17}$/.test(amount)))
      throw new ControlError('amount must be a whole number of minor units, as a string');
    const reason = body.reason;
    if (reason !== undefined && !(typeof reason === 'string' && /^[A-Z_]{1,64}$/.test(reason)))
      throw new ControlError('reason must be a PayPal reason such as UNAUTHORISED');
    try {
      return paypal.openDispute(match[1], { ...(amount ? { amount: BigInt(amount) } : {}), ...(reason ? { reason: reason } : {}) });
    } catch (error) {
      throw new ControlError((error as Error).message);
    }
  }
  if (method === 'POST' && (match = /^\/__control\/paypal\/disputes\/([A-Za-z0-9-]+)\/resolve$/.exec(path))) {
    const outcome = oneOf(body, 'outcome', ['RESOLVED_BUYER_FAVOUR', 'RESOLVED_SELLER_FAVOUR'] as const);
    if (!outcome) throw new ControlError('outcome is required: RESOLVED_BUYER_FAVOUR or RESOLVED_SELLER_FAVOUR');
    try {
      return paypal.resolveDispute(match[1], outcome);
    } catch (error) {
      throw new ControlError((error as Error).message);
    }
  }
  if (method === 'POST' && (match = /^\/__control\/paypal\/vault-tokens\/([A-Za-z0-9_-]+)\/alias$/.exec(path))) {
    const behavesLike = oneOf(body, 'behavesLike', Object.keys(PAYPAL_TEST_VAULT_TOKENS));
    if (!behavesLike) throw new ControlError(`behavesLike is required: one of ${Object.keys(PAYPAL_TEST_VAULT_TOKENS).join(', ')}`);
    paypal.alias(match[1], behavesLike);
    return { id: match[1], behavesLike };
  }
  throw new ControlError(`no control endpoint ${method} ${path}`);
}
