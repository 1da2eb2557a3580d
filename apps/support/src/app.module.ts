import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { SignedServiceTokens, SUPPORT_SERVICE_SUBJECT, SupportCaseSigner } from '@pay/auth';
import type { Logger } from '@pay/observability';
import type { PgNotifications } from '@pay/messaging';
import { LOGGER, PG_NOTIFICATIONS, SERVICE_CONFIG } from '@pay/platform';
import { RolloutModule } from '@pay/rollout';
import type { JWK } from 'jose';
import { DataSource } from 'typeorm';
import { AgentDeskController } from './agent-desk/agent-desk.controller';
import { ChatGateway } from './chat/chat.gateway';
import type { SupportConfig } from './config';
import { ChatFanout } from './conversations/chat-fanout';
import { ConversationStore, chatChannel } from './conversations/conversation-store';
import { ExportConversationsController } from './export-conversations/export-conversations.controller';
import { OpenConversationController } from './open-conversation/open-conversation.controller';
import { PaymentTimelineController } from './payment-timeline/payment-timeline.controller';
import { RecordTimelineController } from './payment-timeline/record-timeline.controller';
import { RefundPaymentForAgent } from './refund-payment/refund-payment';
import { RefundPaymentController } from './refund-payment/refund-payment.controller';
import { RetentionSweeper } from './retention/retention-sweeper';

const schemaOf = (config: SupportConfig): string => config.DB_SCHEMA ?? 'support';

/**
 * The support service: persons' conversations with agents over WebSockets (ChatGateway), the
 * agents' desk, payment timelines built from consumed events, agents' refunds, retention and
 * export. Every HTTP route needs an access token (the platform's AuthModule), the WebSocket too.
 */
@Module({})
export class SupportModule {
  static forRoot(platform: DynamicModule): DynamicModule {
    return {
      module: SupportModule,
      imports: [
        platform,
        RolloutModule.forRootAsync({
          inject: [SERVICE_CONFIG, LOGGER],
          useFactory: (config: SupportConfig, logger: Logger) => ({ path: config.SUPPORT_ROLLOUT_CONFIG_PATH, logger }),
        }),
      ],
      controllers: [
        OpenConversationController,
        AgentDeskController,
        PaymentTimelineController,
        RefundPaymentController,
        ExportConversationsController,
        RecordTimelineController,
      ],
      providers: [
        {
          provide: ConversationStore,
          inject: [DataSource, SERVICE_CONFIG],
          useFactory: (dataSource: DataSource, config: SupportConfig) => new ConversationStore(dataSource, schemaOf(config), config.SUPPORT_EVENTS_TOPIC),
        },
        {
          provide: ChatFanout,
          inject: [SERVICE_CONFIG, LOGGER, PG_NOTIFICATIONS],
          useFactory: (config: SupportConfig, logger: Logger, notifications: PgNotifications) =>
            new ChatFanout({ notifications, channel: chatChannel(schemaOf(config)), logger }),
        },
        {
          provide: RefundPaymentForAgent,
          inject: [DataSource, ConversationStore, SERVICE_CONFIG, LOGGER],
          useFactory: async (dataSource: DataSource, store: ConversationStore, config: SupportConfig, logger: Logger) => {
            const jwk = config.SUPPORT_SERVICE_TOKEN_SIGNING_JWK ? (JSON.parse(config.SUPPORT_SERVICE_TOKEN_SIGNING_JWK) as JWK) : undefined;
            const signing = jwk
              ? {
                  tokens: await SignedServiceTokens.create(jwk, {
                    issuer: config.AUTH_ISSUER,
                    audience: config.AUTH_AUDIENCE,
                    subject: SUPPORT_SERVICE_SUBJECT,
                    // Orchestration's refund route needs it, and refunds for support only the payment a case names; the key's grant allows no other.
                    scopes: ['payments:refund'],
                  }),
                  cases: await SupportCaseSigner.create(jwk, { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE }),
                }
              : undefined;
            if (!signing) logger.warn('no SUPPORT_SERVICE_TOKEN_SIGNING_JWK: agents’ refunds are refused with REFUNDS_UNAVAILABLE');
            return new RefundPaymentForAgent(dataSource, store, signing, {
              orchestrationUrl: config.PAYMENT_ORCHESTRATION_URL.replace(/\/$/, ''),
              timeoutMs: config.PAYMENT_ORCHESTRATION_TIMEOUT_MS,
              eventsTopic: config.SUPPORT_EVENTS_TOPIC,
              logger,
            });
          },
        },
        ChatGateway,
        RetentionSweeper,
      ],
    };
  }
}
