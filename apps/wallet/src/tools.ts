/**
 * The wallet's public entry for what runs beside it: operational tools, benches, deploy checks
 * and end-to-end tests (`@pay/wallet/tools`). Apps import no app; only those may import this.
 */
export { walletService } from './wallet.service';
export { walletMigrations } from './database/migrations';
export { WalletConfig } from './config';
export { personWallet, topups } from './money/chart-of-accounts';
export { LEDGER } from './ledger/ledger.tokens';
/** The vault's sealing, for end-to-end tests that put a method in the shape an older wallet kept it. */
export { SecretBox, secretContext } from './store/secret-box';
export { transferReservationId } from './money/ledger-ids';
export type { PostedCapture, PostingPlan, PostingPolicy } from './post-payments-to-ledger/payment-postings';
export { planCapture, planDisputeLoss, planRefund } from './post-payments-to-ledger/payment-postings';
