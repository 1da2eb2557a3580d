import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';

export class AggregatesQuery {
  @ApiProperty({ enum: ['hour', 'day'] })
  @IsIn(['hour', 'day'], { message: 'granularity must be hour or day' })
  granularity!: 'hour' | 'day';

  @ApiProperty({ example: '2026-03-01T00:00:00Z', description: 'First window start included (UTC).' })
  @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 time, e.g. 2026-03-01T00:00:00Z' })
  from!: string;

  @ApiProperty({ example: '2026-03-08T00:00:00Z', description: 'Windows starting before this time (UTC); at most 31 days after from (7 for hours).' })
  @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 time, e.g. 2026-03-08T00:00:00Z' })
  to!: string;

  @ApiPropertyOptional({ description: 'One of the merchants your token names; all of them when absent.' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,100}$/, { message: 'merchantId must be 1 to 100 of letters, digits, "_", "-", ":" and "."' })
  merchantId?: string;
}

export class PrivacyBudgetView {
  @ApiProperty({ description: 'Total ε this advertiser may spend.' })
  total!: number;

  @ApiProperty()
  spent!: number;

  @ApiProperty()
  remaining!: number;
}

export class AggregatesPage {
  @ApiProperty({ enum: ['hour', 'day'] })
  granularity!: string;

  @ApiProperty()
  from!: string;

  @ApiProperty()
  to!: string;

  @ApiProperty({
    description: 'Published cells (the data of ad-signals.aggregate.published), by window, merchant and cell.',
    type: 'array',
    items: { type: 'object' },
  })
  cells!: unknown[];

  @ApiPropertyOptional({ type: PrivacyBudgetView, description: 'Present when differential privacy is on.' })
  privacyBudget?: PrivacyBudgetView;
}
