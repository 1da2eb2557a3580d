/** The PostgresLedger instance of the wallet service. */
export const LEDGER = Symbol('Ledger');

/** Optional LedgerModuleOptions (LedgerModule.register). */
export const LEDGER_MODULE_OPTIONS = Symbol('LedgerModuleOptions');
