import type { BeforeApplicationShutdown, DynamicModule, OnApplicationBootstrap } from '@nestjs/common';
import { Inject, Injectable, Module } from '@nestjs/common';
import type { FundsCommandAttester } from '@pay/auth';
import { noServiceToken, parsePublicKeySet, parseStepUpThresholds, StepUpProofVerifier } from '@pay/auth';
import type { Logger } from '@pay/observability';
import type { ServiceRuntime } from '@pay/platform';
import type { InstanceMemberships, PgNotifications } from '@pay/messaging';
import { INSTANCE_MEMBERSHIPS, LOGGER, PG_NOTIFICATIONS } from '@pay/platform';
import type { RolloutSource } from '@pay/rollout';
import { ROLLOUT, RolloutModule } from '@pay/rollout';
import type { JWK } from 'jose';
import { DataSource } from 'typeorm';
import { ApplyPspWebhook } from './apply-psp-webhook/apply-psp-webhook';
import { WebhookSweeper } from './apply-psp-webhook/webhook-sweeper';
import { HttpWalletInstruments } from './authorize-and-capture/http-wallet-instruments';
import { orchestrationFundsCommandAttester, orchestrationServiceTokens } from './authorize-and-capture/service-token';
import type { WalletInstruments } from './authorize-and-capture/wallet-instruments';
import { WALLET_INSTRUMENTS } from './authorize-and-capture/wallet-instruments';
import { NonProfitRegistry } from './check-purchase/non-profit-registry';
import { parsePaymentLimits } from './check-purchase/payment-limits';
import type { PaymentOrchestrationConfig } from './config';
import { InitiatePayment } from './initiate-payment/initiate-payment';
import { PaymentsController } from './initiate-payment/payments.controller';
import { PaymentConsumers } from './payment-consumers';
import type { PaymentDrivers } from './payment-drivers';
import { createPaymentDrivers } from './payment-drivers';
import { PaymentEventStore } from './payments/store/payment-event-store';
import type { PaymentServiceProviders } from './psp/payment-service-providers';
import { PAYMENT_SERVICE_PROVIDERS } from './psp/psp.tokens';
import { ReconcilePayments } from './reconcile-payments/reconcile-payments';
import { RefundPayment } from './refund-payment/refund-payment';
import { RefundsController } from './refund-payment/refunds.controller';
import { parseCurrencyAmounts } from './refund-payment/support-refund-budget';
import { SettleAuthorization } from './settle-authorization/settle-authorization';
import { SettleAuthorizationController } from './settle-authorization/settle-authorization.controller';
import { FUNDS_COMMAND_ATTESTER } from './transfer-funds/funds-commands';
import { TransferFunds } from './transfer-funds/transfer-funds';
import { ViewPaymentController } from './view-payment/view-payment.controller';
import { PspWebhookInbox } from './webhooks/receive-psp-webhook/psp-webhook-inbox';
import { WebhooksModule } from './webhooks/webhooks.module';

export const PAYMENT_DRIVERS = Symbol('PaymentDrivers');

/** The least time between two webhook sweeps, and the wait after a failed one. */
const WEBHOOK_SWEEP_MIN_INTERVAL_MS = 1_000;
const WEBHOOK_SWEEP_RETRY_MS = 5_000;

/**
 * Starts the step worker and the webhook sweeper with the app; stops them before the connections close
 * (after the consumers: the platform stops those first).
 */
@Injectable()
class PaymentRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly sweeper: WebhookSweeper;

  constructor(
    @Inject(PAYMENT_DRIVERS) private readonly drivers: PaymentDrivers,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.sweeper = new WebhookSweeper(drivers.applyWebhook, {
      minIntervalMs: WEBHOOK_SWEEP_MIN_INTERVAL_MS,
      retryMs: WEBHOOK_SWEEP_RETRY_MS,
      onError: (error) => this.logger.error({ reason: (error as Error).message }, 'webhook sweep failed; trying again'),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.drivers.worker.start();
    // The first sweep runs before the service is ready; then the sweeper sleeps until a webhook is due.
    await this.sweeper.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sweeper.stop();
    await this.drivers.worker.stop();
  }
}

/**
 * Intake (both doors), the checks, and what drives payments to a final state: the step worker
 * (PSP calls), the wallet conversation of transfers, refunds, webhooks and reconciliation.
 */
@Module({})
export class PaymentsModule {
  static forRoot(runtime: ServiceRuntime<PaymentOrchestrationConfig>, psp: DynamicModule): DynamicModule {
    const config = runtime.config;
    return {
      module: PaymentsModule,
      imports: [
        psp,
        WebhooksModule.forRoot(psp),
        RolloutModule.forRootAsync({ inject: [LOGGER], useFactory: (logger: Logger) => ({ path: config.ROLLOUT_CONFIG_PATH, logger }) }),
      ],
      controllers: [PaymentsController, ViewPaymentController, RefundsController, SettleAuthorizationController, PaymentConsumers],
      providers: [
        {
          provide: WALLET_INSTRUMENTS,
          useFactory: async (): Promise<WalletInstruments> => {
            const tokens = config.SERVICE_TOKEN_SIGNING_JWK
              ? await orchestrationServiceTokens(JSON.parse(config.SERVICE_TOKEN_SIGNING_JWK) as JWK, {
                  issuer: config.AUTH_ISSUER,
                  audience: config.AUTH_AUDIENCE,
                })
              : noServiceToken;
            if (!config.SERVICE_TOKEN_SIGNING_JWK)
              runtime.logger.warn(
                'no SERVICE_TOKEN_SIGNING_JWK: the wallet will refuse instrument lookups (card payments wait) and funds commands (transfers fail)',
              );
            return new HttpWalletInstruments(config.WALLET_URL, tokens, config.WALLET_TIMEOUT_MS, { waitMs: config.WALLET_RELEASE_BATCH_WAIT_MS });
          },
        },
        {
          provide: FUNDS_COMMAND_ATTESTER,
          useFactory: async (): Promise<FundsCommandAttester | null> =>
            (await orchestrationFundsCommandAttester(config.SERVICE_TOKEN_SIGNING_JWK, { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE })) ?? null,
        },
        {
          provide: PAYMENT_DRIVERS,
          inject: [
            DataSource,
            LOGGER,
            PAYMENT_SERVICE_PROVIDERS,
            WALLET_INSTRUMENTS,
            PspWebhookInbox,
            ApplyPspWebhook,
            PG_NOTIFICATIONS,
            INSTANCE_MEMBERSHIPS,
            FUNDS_COMMAND_ATTESTER,
          ],
          useFactory: (
            dataSource: DataSource,
            logger: Logger,
            providers: PaymentServiceProviders,
            instruments: WalletInstruments,
            webhookInbox: PspWebhookInbox,
            applyWebhook: ApplyPspWebhook,
            notifications: PgNotifications,
            memberships: InstanceMemberships | null,
            fundsCommandAttester: FundsCommandAttester | null,
          ) =>
            createPaymentDrivers({
              dataSource,
              logger,
              providers,
              instruments,
              notifications,
              ...(fundsCommandAttester ? { fundsCommandAttester } : {}),
              // The instance's lock, when this process got it: then no other live process has the instance.
              ...(memberships ? { stepOwner: memberships } : {}),
              stepConcurrency: config.PAYMENT_STEP_CONCURRENCY,
              stepLeaseMs: config.PAYMENT_STEP_LEASE_SECONDS * 1000,
              stepPollMs: config.PAYMENT_STEP_POLL_MS,
              webhooks: { inbox: webhookInbox, apply: applyWebhook },
              supportRefundBudget: {
                refundsPerAgentPerHour: config.SUPPORT_REFUNDS_PER_AGENT_PER_HOUR,
                amountPerAgentPerHour: parseCurrencyAmounts(config.SUPPORT_REFUND_AMOUNT_PER_AGENT_PER_HOUR),
                amountPerHour: parseCurrencyAmounts(config.SUPPORT_REFUND_AMOUNT_PER_HOUR),
              },
            }),
        },
        { provide: PaymentEventStore, inject: [PAYMENT_DRIVERS], useFactory: (drivers: PaymentDrivers) => drivers.store },
        { provide: RefundPayment, inject: [PAYMENT_DRIVERS], useFactory: (drivers: PaymentDrivers) => drivers.refunds },
        { provide: SettleAuthorization, inject: [PAYMENT_DRIVERS], useFactory: (drivers: PaymentDrivers) => drivers.settlements },
        { provide: ReconcilePayments, inject: [PAYMENT_DRIVERS], useFactory: (drivers: PaymentDrivers) => drivers.reconcile },
        { provide: TransferFunds, inject: [PAYMENT_DRIVERS], useFactory: (drivers: PaymentDrivers) => drivers.transfers },
        {
          provide: InitiatePayment,
          inject: [DataSource, PAYMENT_DRIVERS, ROLLOUT, LOGGER, FUNDS_COMMAND_ATTESTER],
          useFactory: async (
            dataSource: DataSource,
            drivers: PaymentDrivers,
            rollout: RolloutSource,
            logger: Logger,
            fundsCommandAttester: FundsCommandAttester | null,
          ) =>
            new InitiatePayment(
              dataSource,
              drivers.store,
              drivers.steps,
              {
                rollout,
                limits: parsePaymentLimits(config.PAYMENT_LIMITS),
                nonProfits: await NonProfitRegistry.load(config.NON_PROFITS_CONFIG_PATH),
                stepUpThresholds: parseStepUpThresholds(config.STEP_UP_THRESHOLDS),
                cumulativeStepUp: {
                  maxUnconfirmedPayments: config.STEP_UP_MAX_UNCONFIRMED_PAYMENTS,
                  maxUnconfirmedAmounts: parseStepUpThresholds(config.STEP_UP_CUMULATIVE_AMOUNTS),
                },
                paymentsPerPayerPerMinute: config.PAYMENTS_PER_PAYER_PER_MINUTE,
                purchaseRequestsPerAppPerMinute: config.PURCHASE_REQUESTS_PER_APP_PER_MINUTE,
                stepUpVerifier: new StepUpProofVerifier({
                  ...(config.STEP_UP_JWKS
                    ? { jwks: parsePublicKeySet(config.STEP_UP_JWKS, 'STEP_UP_JWKS') }
                    : { jwksUrl: config.STEP_UP_JWKS_URL ?? `${config.WALLET_URL.replace(/\/$/, '')}/.well-known/step-up-jwks.json` }),
                  issuer: config.STEP_UP_ISSUER,
                }),
                fundsConfirmationTimeoutMs: config.FUNDS_CONFIRMATION_TIMEOUT_SECONDS * 1000,
                fundsReservationTtlMs: config.FUNDS_RESERVATION_TTL_SECONDS * 1000,
                ...(fundsCommandAttester ? { fundsCommandAttester } : {}),
              },
              logger,
            ),
        },
        PaymentRuntime,
      ],
      exports: [PAYMENT_DRIVERS],
    };
  }
}
