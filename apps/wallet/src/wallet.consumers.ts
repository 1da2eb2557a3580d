import { Topics } from '@pay/contracts';
import type { InboxSubscription } from '@pay/messaging';
import type { WalletConfig } from './config';

/** Posts payments.events.v1 to the ledger: `@EventPattern(type, { subscription: PAYMENTS_LEDGER })`. */
export const PAYMENTS_LEDGER = 'payments-ledger';
/** Answers wallet.commands.v1 (reserve, post, void funds): `@EventPattern(type, { subscription: FUNDS_COMMANDS })`. */
export const FUNDS_COMMANDS = 'funds-commands';

/**
 * Each handler holds a pooled connection (the inbox transaction) while it waits for the ledger,
 * which needs connections of its own: two partitions at a time per consumer leaves the pool
 * (10) room for the ledger's group commit, the outbox relay and HTTP.
 */
const PARTITIONS_AT_A_TIME = 2;

/** The wallet's consumer groups (ServiceDefinition.consumers). */
export function walletConsumers(config: WalletConfig): InboxSubscription[] {
  return [
    {
      name: PAYMENTS_LEDGER,
      groupId: config.PAYMENTS_LEDGER_CONSUMER_GROUP,
      topics: [Topics.paymentEvents],
      options: { partitionsConsumedConcurrently: PARTITIONS_AT_A_TIME, gatherMs: config.PAYMENTS_LEDGER_GATHER_MS || undefined },
    },
    {
      name: FUNDS_COMMANDS,
      groupId: config.FUNDS_COMMANDS_CONSUMER_GROUP,
      topics: [Topics.walletCommands],
      options: { partitionsConsumedConcurrently: PARTITIONS_AT_A_TIME },
    },
  ];
}
