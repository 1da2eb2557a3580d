import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';

/** The wallet service: its feature modules hang off this root. */
@Module({})
export class WalletServiceModule {
  static forRoot(platform: DynamicModule): DynamicModule {
    return { module: WalletServiceModule, imports: [platform] };
  }
}
