import type { ServiceDefinition } from '@pay/platform';
import { WalletServiceModule } from './app.module';
import { WalletConfig } from './config';
import { walletMigrations } from './database/migrations';
import { walletConsumers } from './wallet.consumers';

export const walletService: ServiceDefinition<WalletConfig> = {
  name: 'wallet',
  schema: 'wallet',
  defaultPort: 3001,
  title: 'Wallet API',
  description:
    'Accounts, the double-entry ledger, payment methods, Pay per app, PIN and consent. The ledger routes (/v1/ledger) are for operators: account reads and audited corrections; no app backend moves money through them.',
  configClass: WalletConfig,
  migrations: walletMigrations,
  rootModule: (platform) => WalletServiceModule.forRoot(platform),
  consumers: walletConsumers,
};
