/**
 * npm run ledger:rebuild-balances — recomputes the derived balances (and pending holds) from
 * the journal and corrects any difference, in one transaction that holds the chain lock.
 * It verifies the hash chain first and refuses to rebuild from a broken journal unless --force.
 *
 * Flags: --dry-run (report differences, change nothing), --force (rebuild even if the chain is broken).
 * Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/payments), LEDGER_SCHEMA (default wallet).
 * Exit code 0 when done, 1 when the chain is broken (nothing rebuilt), 2 on error.
 */
import type { BalanceDrift } from '@pay/ledger-store';
import { balanceDrift, inTransaction, rebuildBalances, verifyJournal } from '@pay/ledger-store';
import { parseCommandLine } from '../command-line';
import { describeTarget, ledgerTarget, openLedgerDataSource, runCli } from './ledger-cli';

function describeDrift(drift: BalanceDrift): string {
  const { maintained: m, rebuilt: r } = drift;
  return `  ${drift.accountId}: debits/credits posted ${m.debitsPosted}/${m.creditsPosted} -> ${r.debitsPosted}/${r.creditsPosted}, pending ${m.debitsPending}/${m.creditsPending} -> ${r.debitsPending}/${r.creditsPending}`;
}

runCli(async () => {
  const flags = parseCommandLine(
    process.argv.slice(2),
    { 'dry-run': { type: 'boolean' }, force: { type: 'boolean' } },
    'usage: npm run ledger:rebuild-balances -- [--dry-run] [--force]',
  );
  const target = ledgerTarget(process.env);
  const dataSource = await openLedgerDataSource(target, 'ledger-rebuild-balances');
  try {
    process.stderr.write(`rebuilding ledger balances in ${describeTarget(target)}\n`);
    const chain = await inTransaction(dataSource, (sql) => verifyJournal(sql), 'REPEATABLE READ');
    if (!chain.ok) {
      process.stdout.write(`chain broken at position ${chain.position}: ${chain.reason}\n`);
      if (flags.force !== true) {
        process.stdout.write('not rebuilding from a journal that does not verify (use --force to rebuild anyway)\n');
        return 1;
      }
    }
    if (flags['dry-run'] === true) {
      const drift = await inTransaction(dataSource, (sql) => balanceDrift(sql), 'REPEATABLE READ');
      process.stdout.write(`${drift.length} account balances differ from the journal\n${drift.map(describeDrift).join('\n')}${drift.length ? '\n' : ''}`);
      return 0;
    }
    const report = await inTransaction(dataSource, (sql) => rebuildBalances(sql));
    process.stdout.write(
      `rebuilt balances of ${report.accounts} accounts from ${chain.entries} journal entries: ${report.corrected.length} corrected\n` +
        report.corrected.map((d) => `${describeDrift(d)}\n`).join('') +
        `pending reservations: ${report.pendingReservations} (${report.pendingReservationsCorrected ? 'corrected' : 'unchanged'})\n`,
    );
    return 0;
  } finally {
    await dataSource.destroy();
  }
});
