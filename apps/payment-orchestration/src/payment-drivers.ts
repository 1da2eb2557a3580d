import type { FundsCommandAttester } from '@pay/auth';
import type { PgNotifications } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import type { DataSource } from 'typeorm';
import { ApplyPspWebhook } from './apply-psp-webhook/apply-psp-webhook';
import { AuthorizeAndCapture } from './authorize-and-capture/authorize-and-capture';
import type { WalletInstruments } from './authorize-and-capture/wallet-instruments';
import { PaymentEventStore } from './payments/store/payment-event-store';
import type { PaymentServiceProviders } from './psp/payment-service-providers';
import { ReconcilePayments } from './reconcile-payments/reconcile-payments';
import { RefundPayment } from './refund-payment/refund-payment';
import type { SupportRefundBudget } from './refund-payment/support-refund-budget';
import type { StepHandler } from './run-payment-steps/payment-step-worker';
import { PaymentStepWorker } from './run-payment-steps/payment-step-worker';
import { isSettlementStep, SettleAuthorization } from './settle-authorization/settle-authorization';
import type { StepLeaseOwner, StepName } from './run-payment-steps/payment-steps';
import { PaymentSteps } from './run-payment-steps/payment-steps';
import { TransferFunds } from './transfer-funds/transfer-funds';
import { PspWebhookInbox } from './webhooks/receive-psp-webhook/psp-webhook-inbox';

export interface PaymentDriverDependencies {
  readonly dataSource: DataSource;
  readonly logger: Logger;
  /** The PSP port per provider, and which charges each kind of saved method. */
  readonly providers: PaymentServiceProviders;
  readonly instruments: WalletInstruments;
  /** The process's LISTEN connection, for the step worker; without it the worker polls only. */
  readonly notifications?: PgNotifications;
  readonly stepConcurrency: number;
  readonly stepLeaseMs: number;
  readonly stepPollMs: number;
  /**
   * The instance whose lock this process holds (InstanceMemberships): recorded with the step leases
   * it takes, freed at start by any process once no process holds the lock. Should the lock's
   * connection drop while this process lives, its leases stop naming the instance.
   */
  readonly stepOwner?: StepLeaseOwner;
  /** Signs the funds commands sent to the wallet (orchestration's key); absent, the wallet refuses them. */
  readonly fundsCommandAttester?: FundsCommandAttester;
  /** What support may refund an hour (absent: nothing; the reconciliation CLI refunds nothing for support). */
  readonly supportRefundBudget?: SupportRefundBudget;
  /** The service's webhook inbox and use case (WebhooksModule's), so that one sweeper hears of every webhook not applied; made here when absent. */
  readonly webhooks?: { readonly inbox: PspWebhookInbox; readonly apply: ApplyPspWebhook };
}

/** What moves payments after intake: the use cases, and the worker that runs their steps. */
export interface PaymentDrivers {
  readonly store: PaymentEventStore;
  readonly steps: PaymentSteps;
  readonly authorize: AuthorizeAndCapture;
  readonly refunds: RefundPayment;
  readonly settlements: SettleAuthorization;
  readonly transfers: TransferFunds;
  readonly webhookInbox: PspWebhookInbox;
  readonly applyWebhook: ApplyPspWebhook;
  readonly reconcile: ReconcilePayments;
  readonly worker: PaymentStepWorker;
}

/**
 * Builds the payment drivers from plain dependencies. The Nest module and the reconciliation CLI
 * (run by tsx, without decorator metadata, so without Nest's injection) share this one wiring.
 */
export function createPaymentDrivers(deps: PaymentDriverDependencies): PaymentDrivers {
  const { dataSource, logger, providers } = deps;
  const store = new PaymentEventStore(dataSource);
  const steps = new PaymentSteps(dataSource, deps.stepOwner);
  const authorize = new AuthorizeAndCapture(dataSource, store, steps, providers, deps.instruments, logger);
  const transfers = new TransferFunds(dataSource, store, steps, logger, deps.fundsCommandAttester);
  const refunds = new RefundPayment(dataSource, store, steps, providers, transfers, logger, {
    ...(deps.supportRefundBudget ? { supportRefundBudget: deps.supportRefundBudget } : {}),
  });
  const settlements = new SettleAuthorization(dataSource, store, steps, providers, logger);
  const webhookInbox = deps.webhooks?.inbox ?? new PspWebhookInbox(dataSource);
  const applyWebhook = deps.webhooks?.apply ?? new ApplyPspWebhook(dataSource, store, webhookInbox, logger);
  const reconcile = new ReconcilePayments(dataSource, store, providers, authorize, refunds, transfers, settlements, applyWebhook, logger);
  const handlerFor = (step: StepName): StepHandler | undefined => {
    if (step === 'authorize') return (claimed) => authorize.run(claimed);
    if (step === 'confirm-funds') return (claimed) => transfers.onConfirmationDeadline(claimed);
    if (step.startsWith('refund:')) return (claimed) => refunds.run(claimed);
    if (isSettlementStep(step)) return (claimed) => settlements.run(claimed);
    return undefined;
  };
  const worker = new PaymentStepWorker({
    steps,
    handlerFor,
    logger,
    ...(deps.notifications ? { notifications: deps.notifications } : {}),
    concurrency: deps.stepConcurrency,
    leaseMs: deps.stepLeaseMs,
    pollMs: deps.stepPollMs,
  });
  return { store, steps, authorize, refunds, settlements, transfers, webhookInbox, applyWebhook, reconcile, worker };
}
