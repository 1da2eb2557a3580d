import { StepUpKeysUnavailableError } from '@pay/auth';
import type { PurchaseRequested } from '@pay/contracts';
import { InvalidEventError, PurchaseRequestedV1 } from '@pay/contracts';
import type { EventHandler, EventPublisher } from '@pay/messaging';
import { DependencyUnavailableError, InboxConsumer, PermanentEventError } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import { isPaymentDomainError } from '@pay/payments-domain';
import type { Kafka } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import type { Sql } from './database/sql';
import { sqlOf } from './database/sql';
import type { InitiatePayment } from './initiate-payment/initiate-payment';
import { toPurchaseRequest } from './initiate-payment/to-purchase-request';
import { WALLET_READ_MODEL_APPLIERS } from './track-wallets/apply-wallet-event';
import type { TransferFunds } from './transfer-funds/transfer-funds';

export interface PaymentConsumerSettings {
  readonly kafka: Kafka;
  readonly dataSource: DataSource;
  readonly publisher: EventPublisher;
  readonly logger: Logger;
  readonly groupPrefix: string;
  readonly purchaseRequestsTopic: string;
  readonly walletEventsTopic: string;
}

function sqlOfTransaction(tx: EntityManager): Sql {
  if (!tx.queryRunner) throw new Error('the inbox handed over an entity manager without its transaction');
  return sqlOf(tx.queryRunner);
}

/**
 * Input no retry can fix becomes a dead letter at once (with the reason), not five slow retries.
 * The wallet's step-up keys out of reach is an outage, not the message's fault: the inbox retries
 * the message until the keys answer (its partition waits), never dead-letters it. PostgreSQL out
 * of reach is recognised by the inbox itself. Anything else rolls back and is retried, then
 * dead-lettered.
 */
async function classifyFailures(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (isPaymentDomainError(error) || error instanceof InvalidEventError) throw new PermanentEventError(error.message);
    if (error instanceof StepUpKeysUnavailableError) throw new DependencyUnavailableError('wallet-step-up-keys', error.message, { cause: error });
    throw error;
  }
}

/**
 * The Kafka door of intake (payments.purchase-requests.v1) and the wallet's events
 * (wallet.events.v1: the read model the checks use, and the answers to funds commands). Each
 * event is applied exactly once with its effect (the inbox), the offset committed after.
 */
export function createPaymentConsumers(settings: PaymentConsumerSettings, initiate: InitiatePayment, transfers: TransferFunds): InboxConsumer[] {
  const common = { kafka: settings.kafka, dataSource: settings.dataSource, publisher: settings.publisher, logger: settings.logger, partitionsConsumedConcurrently: 6 };

  const purchaseRequested: EventHandler = (event, tx) =>
    classifyFailures(async () => {
      const data = event.envelope.data as PurchaseRequested;
      await initiate.initiate(toPurchaseRequest(data.requestId, data), { door: 'kafka', correlationId: event.envelope.correlationId, causationId: event.envelope.id }, sqlOfTransaction(tx));
    });

  const walletHandlers: Record<string, EventHandler> = {};
  for (const [type, apply] of Object.entries({ ...WALLET_READ_MODEL_APPLIERS, ...transfers.answerHandlers() })) {
    walletHandlers[type] = (event, tx) => classifyFailures(() => apply(sqlOfTransaction(tx), event.envelope));
  }

  return [
    new InboxConsumer({
      ...common,
      groupId: `${settings.groupPrefix}.purchase-requests`,
      topics: [settings.purchaseRequestsTopic],
      handlers: { [PurchaseRequestedV1.type]: purchaseRequested },
    }),
    new InboxConsumer({ ...common, groupId: `${settings.groupPrefix}.wallet-events`, topics: [settings.walletEventsTopic], handlers: walletHandlers }),
  ];
}
