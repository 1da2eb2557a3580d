import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { HistoryModule } from './history.module';

/** The history-projection service: its feature modules hang off this root. */
@Module({})
export class HistoryProjectionModule {
  static forRoot(platform: DynamicModule): DynamicModule {
    return { module: HistoryProjectionModule, imports: [platform, HistoryModule] };
  }
}
