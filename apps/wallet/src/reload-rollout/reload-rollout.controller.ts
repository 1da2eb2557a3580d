import { Controller, Get, HttpCode, HttpStatus, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Roles } from '@pay/auth';
import type { RolloutSource } from '@pay/rollout';
import { ROLLOUT } from '@pay/rollout';

export class CountryRolloutView {
  @ApiProperty({ example: 'DE' })
  country!: string;

  @ApiProperty({ example: ['facebook', 'messenger'] })
  apps!: string[];
}

export class RolloutView {
  @ApiProperty({ description: 'SHA-256 of the live rollout file.' })
  digest!: string;

  @ApiProperty({ format: 'date-time' })
  loadedAt!: string;

  @ApiProperty({ type: CountryRolloutView, isArray: true })
  countries!: CountryRolloutView[];

  @ApiPropertyOptional({ description: 'Why the file on disk was refused (the previous rollout stays live).' })
  error?: string;
}

function view(source: RolloutSource, error?: string): RolloutView {
  const { policy, digest, loadedAt } = source.current;
  return {
    digest,
    loadedAt: loadedAt.toISOString(),
    countries: policy.liveCountries().map((country) => ({ country, apps: policy.liveApps(country) })),
    ...(error ? { error } : {}),
  };
}

@ApiTags('rollout')
@ApiBearerAuth()
@Controller('v1/rollout')
export class RolloutController {
  constructor(@Inject(ROLLOUT) private readonly rollout: RolloutSource) {}

  @Get()
  @Roles('person', 'service', 'analyst', 'operator')
  @ApiOperation({ summary: 'Where Pay is live: countries and apps' })
  @ApiOkResponse({ type: RolloutView })
  current(): RolloutView {
    return view(this.rollout);
  }

  /** The file is also reloaded on change and on SIGHUP; this is for operators who want an answer. */
  @Post('reload')
  @HttpCode(HttpStatus.OK)
  @Roles('operator')
  @ApiOperation({ summary: 'Reload the rollout file now (operators)' })
  @ApiOkResponse({ type: RolloutView })
  async reload(): Promise<RolloutView> {
    const result = await this.rollout.reload('operator request');
    return view(this.rollout, result.ok ? undefined : result.error);
  }
}
