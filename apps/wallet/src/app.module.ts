import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { LedgerModule } from './ledger';
import { MoneyModule } from './money';
import { WalletSettingsModule } from './wallet-settings.module';

/** The wallet service: its feature modules hang off this root. */
@Module({})
export class WalletServiceModule {
  static forRoot(platform: DynamicModule): DynamicModule {
    return { module: WalletServiceModule, imports: [platform, LedgerModule, WalletSettingsModule, MoneyModule] };
  }
}
