/**
 * The scope of the ledger's raw write API (open accounts, post transactions, reserve): held by no
 * caller in production (docs/security.md). The wallet's own flows record in-process; orchestration
 * moves funds through wallet.commands.v1; operators post corrections (/v1/ledger/corrections).
 */
export const LEDGER_WRITE = 'ledger:write';
