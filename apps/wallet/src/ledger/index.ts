export { LedgerModule } from './ledger.module';
export type { LedgerModuleOptions } from './ledger.module';
export { LEDGER, LEDGER_MODULE_OPTIONS } from './ledger.tokens';
