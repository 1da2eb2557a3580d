import type { BucketLimit } from '@pay/platform';
import { takeFromBucket } from '@pay/platform';
import type { Sql } from '../database/sql';

/**
 * How much support may refund, whatever its cases say: the bound on what code running in the
 * support pod (holding support's key and the agents' tokens passing through it) could refund.
 * Per agent, a number of refunds and an amount per currency an hour; for all agents together, an
 * amount per currency an hour. A currency without an amount has no budget: support refunds nothing
 * in it (an unconfigured currency must not become a way around the limit).
 */
export interface SupportRefundBudget {
  /** `SUPPORT_REFUNDS_PER_AGENT_PER_HOUR`. */
  readonly refundsPerAgentPerHour: number;
  /** `SUPPORT_REFUND_AMOUNT_PER_AGENT_PER_HOUR`, minor units by currency. */
  readonly amountPerAgentPerHour: ReadonlyMap<string, number>;
  /** `SUPPORT_REFUND_AMOUNT_PER_HOUR`: all agents together, minor units by currency. */
  readonly amountPerHour: ReadonlyMap<string, number>;
}

/** No budget at all: what a wiring without the configuration (the reconciliation CLI) gets. */
export const NO_SUPPORT_REFUND_BUDGET: SupportRefundBudget = { refundsPerAgentPerHour: 0, amountPerAgentPerHour: new Map(), amountPerHour: new Map() };

const HOUR_SECONDS = 3_600;
const ENTRY = /^([A-Z]{3}):(0|[1-9][0-9]{0,14})$/;

/** `EUR:50000,USD:50000` (minor units a currency, at most 15 digits: exact in the buckets' double precision). Throws with what is wrong. */
export function parseCurrencyAmounts(text: string): ReadonlyMap<string, number> {
  const amounts = new Map<string, number>();
  for (const part of text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const match = ENTRY.exec(part);
    if (!match) throw new Error(`"${part}" is not CURRENCY:minor-units, e.g. EUR:50000`);
    if (amounts.has(match[1])) throw new Error(`${match[1]} is given twice`);
    amounts.set(match[1], Number(match[2]));
  }
  return amounts;
}

/**
 * A support refund beyond the budget: nothing was requested (the transaction that took the budget
 * rolls back, giving back what it took); ask again after `retryAfterSeconds`.
 */
export class SupportRefundBudgetExceeded extends Error {
  override name = 'SupportRefundBudgetExceeded';
  readonly code = 'SUPPORT_REFUND_BUDGET_EXCEEDED';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/**
 * Spends one refund of `agentId` and its amount from the budget, in the caller's transaction
 * (the buckets' rows stay locked, and the take is undone by a rollback), or throws
 * SupportRefundBudgetExceeded naming the limit. Buckets are taken in one order (the agent's count,
 * the agent's amount, everyone's amount), so concurrent refunds do not deadlock.
 */
export async function spendSupportRefundBudget(
  sql: Sql,
  budget: SupportRefundBudget,
  refund: { readonly agentId: string; readonly amount: bigint; readonly currency: string },
  now: Date,
): Promise<void> {
  const { agentId, currency } = refund;
  const amount = Number(refund.amount);
  const agentAmount = budget.amountPerAgentPerHour.get(currency) ?? 0;
  const allAmount = budget.amountPerHour.get(currency) ?? 0;
  if (budget.refundsPerAgentPerHour === 0 || agentAmount === 0 || allAmount === 0) {
    throw new SupportRefundBudgetExceeded(`support has no refund budget in ${currency}`, HOUR_SECONDS);
  }
  const takes: Array<{ bucket: string; limit: BucketLimit; count: number; what: string }> = [
    {
      bucket: `support-refunds:agent:${agentId}:count`,
      limit: { size: budget.refundsPerAgentPerHour, windowSeconds: HOUR_SECONDS },
      count: 1,
      what: `this agent has started as many refunds as an agent may in an hour (${budget.refundsPerAgentPerHour})`,
    },
    {
      bucket: `support-refunds:agent:${agentId}:amount:${currency}`,
      limit: { size: agentAmount, windowSeconds: HOUR_SECONDS },
      count: amount,
      what: `this refund would take this agent's refunds beyond ${agentAmount} (minor units of ${currency}) in an hour`,
    },
    {
      bucket: `support-refunds:all:amount:${currency}`,
      limit: { size: allAmount, windowSeconds: HOUR_SECONDS },
      count: amount,
      what: `this refund would take all agents' refunds beyond ${allAmount} (minor units of ${currency}) in an hour`,
    },
  ];
  for (const take of takes) {
    const taken = await takeFromBucket(sql, take.bucket, take.limit, now, take.count);
    if (!taken.allowed) {
      throw new SupportRefundBudgetExceeded(`${take.what}: nothing was refunded; retry after ${taken.retryAfterSeconds} seconds`, taken.retryAfterSeconds);
    }
  }
}
