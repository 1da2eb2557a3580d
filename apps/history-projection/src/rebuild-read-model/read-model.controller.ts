import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '@pay/auth';
import { DataSource } from 'typeorm';
import { sqlOfPool } from '@pay/platform';
import type { LagSnapshot } from '../freshness/projection-lag';
import { ProjectionLag } from '../freshness/projection-lag';
import { PROJECTION_LAG } from '../freshness/projection-readiness';
import type { ReadModelVersion } from '../read-model/read-model-version';
import { listVersions, liveVersion } from '../read-model/read-model-version';

/** Operators: which read model version serves, how a rebuild is doing, how far behind the projection is. */
@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1/history/read-model')
@Roles('operator')
export class ReadModelController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(PROJECTION_LAG) private readonly lag: ProjectionLag,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Read model versions (live, building with its progress, retired), stored events and lag' })
  async status(): Promise<{ liveVersion: number; versions: ReadModelVersion[]; storedEvents: number; lag: LagSnapshot }> {
    const [live, versions, [stored], lag] = await Promise.all([
      liveVersion(sqlOfPool(this.dataSource)),
      listVersions(sqlOfPool(this.dataSource)),
      this.dataSource.query<Array<{ n: string }>>('SELECT count(*)::text AS n FROM raw_events'),
      this.lag.current(5_000),
    ]);
    return { liveVersion: live, versions, storedEvents: Number(stored.n), lag };
  }
}
