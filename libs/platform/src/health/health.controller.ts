import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@pay/auth';
import type { HealthCheckResult, HealthIndicatorResult } from '@nestjs/terminus';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { Admin } from 'kafkajs';
import { DataSource } from 'typeorm';
import { KAFKA_ADMIN } from '../service/tokens';

const withTimeout = <T>(work: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([work, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms))]);

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    @Inject(KAFKA_ADMIN) private readonly kafkaAdmin: Admin,
  ) {}

  /** The process is alive; says nothing about its dependencies (a restart would not fix them). */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready to take traffic: PostgreSQL and Kafka both answer. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: PostgreSQL and Kafka answer' })
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.postgres(), () => this.kafka()]);
  }

  private async postgres(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('postgres');
    try {
      await withTimeout(this.dataSource.query('SELECT 1'), 2_000, 'PostgreSQL');
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }

  private async kafka(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('kafka');
    try {
      const cluster = await withTimeout(this.kafkaAdmin.describeCluster(), 2_000, 'Kafka');
      return indicator.up({ brokers: cluster.brokers.length });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
