import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { KAFKA_ADMIN, SERVICE_CONFIG, sqlOfPool } from '@pay/platform';
import type { Admin } from 'kafkajs';
import { DataSource } from 'typeorm';
import { AnalystsController } from './aggregate-history/analysts.controller';
import type { HistoryProjectionConfig } from './config';
import type { Clock } from './freshness/clock';
import { CLOCK } from './freshness/clock';
import { ProjectionLag } from './freshness/projection-lag';
import { LagSampler, PROJECTION_LAG, ProjectionReadiness } from './freshness/projection-readiness';
import { consumedTopics } from './history.consumers';
import { ProjectEventsController } from './project-events/project-events.controller';
import { BusinessHistoryController, PersonHistoryController } from './query-history/history.controllers';
import { HistoryReader } from './query-history/history-reader';
import { PersonPseudonyms } from './query-history/person-pseudonyms';
import { ReadModelController } from './rebuild-read-model/read-model.controller';

/**
 * The history: the projection consuming payments, ledger and wallet events into versioned read
 * tables, and the query API for people, businesses' apps, analysts and operators. Every route
 * needs an access token (the platform's AuthModule); @Roles says whose.
 */
@Module({
  // Literal routes (v1/history/entries, read-model) before the parameterised ones.
  controllers: [ReadModelController, AnalystsController, PersonHistoryController, BusinessHistoryController, ProjectEventsController],
  providers: [
    { provide: HistoryReader, inject: [DataSource], useFactory: (dataSource: DataSource) => new HistoryReader(dataSource) },
    {
      provide: PersonPseudonyms,
      inject: [SERVICE_CONFIG],
      useFactory: (config: HistoryProjectionConfig) => new PersonPseudonyms(config.HISTORY_PSEUDONYM_KEY),
    },
    // One clock per application (a factory, not a shared value), so a test can move one service's.
    { provide: CLOCK, useFactory: (): Clock => ({ now: () => Date.now() }) },
    {
      provide: PROJECTION_LAG,
      inject: [KAFKA_ADMIN, DataSource, SERVICE_CONFIG, CLOCK],
      useFactory: (admin: Admin, dataSource: DataSource, config: HistoryProjectionConfig, clock: Clock) =>
        new ProjectionLag(admin, sqlOfPool(dataSource), config.HISTORY_CONSUMER_GROUP, consumedTopics(config), () => clock.now()),
    },
    LagSampler,
    { provide: APP_INTERCEPTOR, useClass: ProjectionReadiness },
  ],
})
export class HistoryModule {}
