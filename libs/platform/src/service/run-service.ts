import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { BaseServiceConfig } from '@pay/config';
import { ConfigError, loadConfig } from '@pay/config';
import { flattenValidationErrors } from '@pay/contracts';
import type { InboxSubscription } from '@pay/messaging';
import { connectInboxTransport, createKafka, EventPublisher, InboxTransport, InstanceMemberships, kafkaConnectionOf } from '@pay/messaging';
import type { Telemetry } from '@pay/observability';
import { createLogger, currentTelemetry, observeEventLoopDelay, observeHttpRequests, startTelemetry } from '@pay/observability';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { MigrationList } from '../database/data-source';
import { openServiceDataSource } from '../database/data-source';
import { observeConnectionPool } from '../database/pool-metrics';
import type { ServiceRuntime } from './platform.module';
import { PlatformModule } from './platform.module';
import { checkKafka, checkPostgres, StartupError } from './preflight';
import { securityHeaders } from '../http/security-headers';
import { stopWhenSupervisorGone } from './supervisor-lifeline';
import { withSessionTimeout } from './consumer-session';

export interface ServiceDefinition<C extends BaseServiceConfig = BaseServiceConfig> {
  /** Service name: logs, traces, the Kafka client id. */
  name: string;
  /** The PostgreSQL schema the service owns. */
  schema: string;
  defaultPort: number;
  title: string;
  description: string;
  configClass: new () => C;
  migrations: MigrationList;
  /** The service's root module, given the platform module to import. */
  rootModule(platform: DynamicModule, runtime: ServiceRuntime<C>): Type | DynamicModule;
  /**
   * The consumer groups the service reads. Their handlers are controller methods declared with
   * `@EventPattern('<event type>')` (InboxTransport, libs/messaging); none: the service consumes nothing.
   */
  consumers?(config: C): InboxSubscription[];
}

export interface RunningService<C extends BaseServiceConfig = BaseServiceConfig> {
  app: INestApplication;
  runtime: ServiceRuntime<C>;
  url: string;
}

/** Opens everything a service needs, failing fast with one clear message. */
async function openRuntime<C extends BaseServiceConfig>(
  definition: ServiceDefinition<C>,
  env: NodeJS.ProcessEnv,
  options: CreateServiceOptions,
): Promise<ServiceRuntime<C>> {
  const config = loadConfig(definition.name, definition.configClass, env);
  const logger = createLogger(definition.name, config.LOG_LEVEL, options.logDestination);
  const telemetry: Telemetry = currentTelemetry() ?? startTelemetry({ service: definition.name, otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  // Once per process (several services in one process share it): whether the process gets the CPU.
  observeEventLoopDelay();
  await checkPostgres(config.DATABASE_URL);
  const kafkaConnection = kafkaConnectionOf(config);
  await checkKafka(kafkaConnection);
  const dataSource = await openServiceDataSource({
    url: config.DATABASE_URL,
    schema: config.DB_SCHEMA ?? definition.schema,
    migrations: config.DB_MIGRATE_ON_START ? definition.migrations : [],
    applicationName: definition.name,
  });
  observeConnectionPool(dataSource, definition.name);
  const kafka = createKafka({ clientId: definition.name, ...kafkaConnection, logger });
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const publisher = new EventPublisher(kafka);
  await publisher.connect();
  const subscriptions = withSessionTimeout(definition.consumers?.(config) ?? [], config.KAFKA_SESSION_TIMEOUT_MS);
  const consumes = subscriptions.some((subscription) => subscription.enabled ?? true);
  const memberships =
    consumes && config.KAFKA_REJOIN_AFTER_RESTART && config.KAFKA_GROUP_INSTANCE_ID
      ? await InstanceMemberships.claim({
          connectionString: config.DATABASE_URL,
          schema: config.DB_SCHEMA ?? definition.schema,
          instanceId: config.KAFKA_GROUP_INSTANCE_ID,
          applicationName: `${definition.name}-members`,
          logger,
        })
      : undefined;
  const inbox = new InboxTransport({ kafka, dataSource, publisher, logger, subscriptions, memberIds: memberships });
  return {
    name: definition.name,
    config,
    logger,
    telemetry,
    dataSource,
    kafka,
    kafkaAdmin,
    publisher,
    inbox,
    memberships,
    ownsProcess: options.exitOnShutdownSignal === true,
  };
}

export interface CreateServiceOptions {
  /** Where the service's log lines go (stdout by default); tests capture and scan them. */
  logDestination?: DestinationStream;
  /**
   * The process is this one service (`runService`): once a shutdown signal (SIGTERM) has
   * stopped it cleanly, exit 0. Otherwise Nest re-raises the signal once the service is closed:
   * right for a process hosting several services (it ends with the last one), but the exit code
   * is 143, and node running as PID 1 in a container never gets it (Linux drops a signal sent
   * to a PID namespace's init without a handler for it), so it lingers until its event loop drains.
   */
  exitOnShutdownSignal?: boolean;
}

/** Builds and starts a service's HTTP server; tests call this with their own environment. */
export async function createService<C extends BaseServiceConfig>(
  definition: ServiceDefinition<C>,
  env: NodeJS.ProcessEnv = process.env,
  options: CreateServiceOptions = {},
): Promise<RunningService<C>> {
  const runtime = await openRuntime(definition, env, options);
  const root = definition.rootModule(PlatformModule.forRoot(runtime), runtime);
  // rawBody: webhook signatures are computed over the exact bytes received.
  const app = await NestFactory.create(root, { bufferLogs: true, abortOnError: false, rawBody: true });
  app.useLogger(app.get(PinoNestLogger));
  // First of all middleware: every request runs inside its span, continuing the caller's trace.
  app.use(observeHttpRequests(definition.name));
  (app.getHttpAdapter().getInstance() as { disable(setting: string): void }).disable('x-powered-by');
  app.use(securityHeaders());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) =>
        new BadRequestException({ code: 'VALIDATION_FAILED', message: 'the request is not valid', details: flattenValidationErrors(errors) }),
    }),
  );
  // SIGTERM (Kubernetes, docker stop) and SIGINT (Ctrl-C) stop the service. SIGHUP does not:
  // it asks a service to reload its files (the rollout), and one with nothing to reload says so.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: options.exitOnShutdownSignal === true });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle(definition.title).setDescription(definition.description).setVersion('1').addBearerAuth().build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  // @EventPattern handlers are routed to their subscriptions here: a handler that fits none fails the start.
  connectInboxTransport(app, runtime.inbox);
  // Lifecycle hooks first (the outbox relay, the services' workers), then the consumers (in the
  // background: joining a group can wait for a rebalance), then HTTP. On shutdown the platform
  // stops the consumers before any other hook runs.
  await app.init();
  await app.startAllMicroservices();
  const port = runtime.config.PORT ?? definition.defaultPort;
  await app.listen(port, runtime.config.HOST);
  // Started: a feature that reloads on SIGHUP has registered by now; without one, SIGHUP must
  // still not kill the process (Node's default).
  if (options.exitOnShutdownSignal === true && process.listenerCount('SIGHUP') === 0) {
    process.on('SIGHUP', () => runtime.logger.info('SIGHUP: this service has no file to reload; still running'));
  }
  const address = (app.getHttpServer() as Server).address() as AddressInfo;
  const url = `http://${runtime.config.HOST}:${address.port}`;
  return { app, runtime, url };
}

/**
 * The `main.ts` of every service: start, print where it listens, stop cleanly on SIGTERM or
 * Ctrl-C. A bad configuration or an unreachable dependency ends the process at once with one
 * line that says what is wrong (no stack trace, no retry loop).
 */
export async function runService<C extends BaseServiceConfig>(definition: ServiceDefinition<C>): Promise<void> {
  stopWhenSupervisorGone((line) => void process.stderr.write(`${definition.name}: ${line}\n`));
  try {
    const { runtime, url } = await createService(definition, process.env, { exitOnShutdownSignal: true });
    runtime.logger.info({ url, docs: `${url}/docs` }, `${definition.name} listening on ${url} (OpenAPI: ${url}/docs)`);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
    } else if (error instanceof StartupError) {
      process.stderr.write(`${definition.name}: cannot start: ${error.message}\n`);
    } else {
      process.stderr.write(`${definition.name}: cannot start: ${(error as Error).stack ?? String(error)}\n`);
    }
    process.exit(1);
  }
}
