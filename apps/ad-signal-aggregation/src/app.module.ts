import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { AdSignalsModule } from './ad-signals.module';

/** The ad-signal-aggregation service: its feature modules hang off this root. */
@Module({})
export class AdSignalAggregationModule {
  static forRoot(platform: DynamicModule): DynamicModule {
    return { module: AdSignalAggregationModule, imports: [platform, AdSignalsModule] };
  }
}
