/**
 * npm run ledger:verify — walks the journal's hash chain and reports the first entry that does
 * not match, or "verified N entries". Exit code 0 when intact, 1 when broken, 2 on error.
 *
 * Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/payments), LEDGER_SCHEMA (default wallet).
 */
import { inTransaction, verifyJournal } from '@pay/ledger-store';
import { parseCommandLine } from '../command-line';
import { describeTarget, ledgerTarget, openLedgerDataSource, runCli } from './ledger-cli';

runCli(async () => {
  parseCommandLine(process.argv.slice(2), {}, 'usage: npm run ledger:verify (no flags)');
  const target = ledgerTarget(process.env);
  const dataSource = await openLedgerDataSource(target, 'ledger-verify');
  try {
    process.stderr.write(`verifying the ledger journal in ${describeTarget(target)}\n`);
    // One snapshot for the whole walk: appends that commit meanwhile are not half-seen.
    const result = await inTransaction(dataSource, (sql) => verifyJournal(sql), 'REPEATABLE READ');
    if (result.ok) {
      process.stdout.write(`verified ${result.entries} entries\n`);
      return 0;
    }
    process.stdout.write(`chain broken at position ${result.position}: ${result.reason} (${result.entries} entries verified before it)\n`);
    return 1;
  } finally {
    await dataSource.destroy();
  }
});
