import type { DynamicModule, OnApplicationBootstrap, OnApplicationShutdown, OnModuleDestroy } from '@nestjs/common';
import { Global, Inject, Injectable, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule, parseKeyGrants, parsePublicKeySet } from '@pay/auth';
import type { BaseServiceConfig } from '@pay/config';
import type { EventPublisher, InstanceMemberships } from '@pay/messaging';
import { InboxTransport, OutboxRelay, PgNotifications } from '@pay/messaging';
import type { Logger, Telemetry } from '@pay/observability';
import { requestLogFields, responseLogFields } from '@pay/observability';
import type { Admin, Kafka } from 'kafkajs';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { closeServiceDataSource } from '../database/data-source';
import { HealthController } from '../health/health.controller';
import { MetricsController } from '../health/metrics.controller';
import { EVENT_PUBLISHER, INSTANCE_MEMBERSHIPS, KAFKA, KAFKA_ADMIN, LOGGER, OWNS_PROCESS, PG_NOTIFICATIONS, SERVICE_CONFIG, TELEMETRY } from './tokens';

/** What a service has before Nest starts: validated config, open connections, telemetry. */
export interface ServiceRuntime<C extends BaseServiceConfig = BaseServiceConfig> {
  name: string;
  config: C;
  logger: Logger;
  telemetry: Telemetry;
  dataSource: DataSource;
  kafka: Kafka;
  kafkaAdmin: Admin;
  publisher: EventPublisher;
  /** The service's consumers (its ServiceDefinition.consumers), a Nest transport for its @EventPattern handlers. */
  inbox: InboxTransport;
  /** The instance's claim on its consumer groups' member ids across restarts (KAFKA_GROUP_INSTANCE_ID); none: new members each start. */
  memberships?: InstanceMemberships;
  /** The process is this one service (runService): its telemetry is flushed and closed with it. */
  ownsProcess: boolean;
}

/**
 * Starts the service's outbox relay with the application. On shutdown it stops the consumers
 * first (onModuleDestroy runs before every feature's beforeApplicationShutdown: the ledger drains,
 * workers stop after the messages in hand are applied), and closes the shared connections last.
 */
@Injectable()
class RuntimeLifecycle implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly relay: OutboxRelay;

  constructor(
    @Inject(EVENT_PUBLISHER) private readonly publisher: EventPublisher,
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_CONFIG) config: BaseServiceConfig,
    @Inject(TELEMETRY) private readonly telemetry: Telemetry,
    @Inject(OWNS_PROCESS) private readonly ownsProcess: boolean,
    private readonly dataSource: DataSource,
    private readonly inbox: InboxTransport,
    @Inject(PG_NOTIFICATIONS) private readonly notifications: PgNotifications,
    @Inject(INSTANCE_MEMBERSHIPS) private readonly memberships: InstanceMemberships | null,
  ) {
    this.relay = new OutboxRelay({ name: config.OUTBOX_RELAY_NAME, dataSource, publisher, logger, notifications });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.inbox.close();
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'shutting down: stopping the outbox relay, closing Kafka and PostgreSQL connections');
    await this.relay.stop();
    // Every feature that listened stopped before this (onModuleDestroy, beforeApplicationShutdown).
    await this.notifications.close();
    // The consumers stopped (onModuleDestroy): the instance's lock goes only now, with the process.
    await this.memberships?.release();
    await this.publisher.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    await closeServiceDataSource(this.dataSource);
    // Spans still queued for the collector are sent before the process exits (a service sharing
    // its process with others, in tests, leaves the shared SDK running).
    if (this.ownsProcess) await this.telemetry.shutdown().catch(() => undefined);
  }
}

/** Health, metrics, logging and the shared connections, for every service. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(runtime: ServiceRuntime): DynamicModule {
    const providers = [
      { provide: DataSource, useValue: runtime.dataSource },
      { provide: KAFKA, useValue: runtime.kafka },
      { provide: KAFKA_ADMIN, useValue: runtime.kafkaAdmin },
      { provide: EVENT_PUBLISHER, useValue: runtime.publisher },
      { provide: LOGGER, useValue: runtime.logger },
      { provide: SERVICE_CONFIG, useValue: runtime.config },
      { provide: TELEMETRY, useValue: runtime.telemetry },
      { provide: OWNS_PROCESS, useValue: runtime.ownsProcess },
      { provide: InboxTransport, useValue: runtime.inbox },
      { provide: INSTANCE_MEMBERSHIPS, useValue: runtime.memberships ?? null },
      {
        provide: PG_NOTIFICATIONS,
        useValue: new PgNotifications({ connectionString: runtime.config.DATABASE_URL, applicationName: `${runtime.name}-listen`, logger: runtime.logger }),
      },
    ];
    return {
      module: PlatformModule,
      imports: [
        // Every route needs a signed access token unless it says @Public() (libs/auth).
        AuthModule.forRoot({
          jwks: runtime.config.AUTH_JWKS ? parsePublicKeySet(runtime.config.AUTH_JWKS, 'AUTH_JWKS') : undefined,
          jwksUrl: runtime.config.AUTH_JWKS_URL,
          keyGrants: runtime.config.AUTH_KEY_GRANTS ? parseKeyGrants(runtime.config.AUTH_KEY_GRANTS) : undefined,
          issuer: runtime.config.AUTH_ISSUER,
          audience: runtime.config.AUTH_AUDIENCE,
          // Agents' tokens are taken by the support service alone (SupportConfig's AUTH_AGENT_AUDIENCE); every other service refuses them.
          agentAudience: (runtime.config as { AUTH_AGENT_AUDIENCE?: string }).AUTH_AGENT_AUDIENCE,
        }),
        TerminusModule.forRoot({ logger: false }),
        LoggerModule.forRoot({
          pinoHttp: {
            logger: runtime.logger,
            // Probes and scrapes every few seconds would drown the useful lines.
            autoLogging: { ignore: (request) => /^\/(health|metrics)/.test(request.url ?? '') },
            quietReqLogger: true,
            // pino-http binds the request to its child logger, outside createLogger's scrubbing,
            // as its own serialized copy: the path only (a query string can carry anything), no
            // headers (Authorization, cookies).
            serializers: { req: requestLogFields, res: responseLogFields },
          },
        }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [...providers, RuntimeLifecycle],
      exports: providers.map((provider) => provider.provide),
    };
  }
}
