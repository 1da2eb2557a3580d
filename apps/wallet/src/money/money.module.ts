import { Module } from '@nestjs/common';
import { HandleFundsCommandsModule } from '../handle-funds-commands/handle-funds-commands.module';
import { PostPaymentsToLedgerModule } from '../post-payments-to-ledger/post-payments-to-ledger.module';

/**
 * Money movements of the wallet beside its ledger API: payments posted to the ledger, and
 * funds commands for transfers from wallet balance (docs/adr/0007-payment-postings.md).
 * Their consumers (wallet.consumers.ts) stop before LedgerModule drains: the platform stops
 * every consumer first on shutdown.
 */
@Module({ imports: [PostPaymentsToLedgerModule, HandleFundsCommandsModule] })
export class MoneyModule {}
