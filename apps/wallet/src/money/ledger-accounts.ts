import type { OpenAccountInput } from '@pay/ledger-domain';
import type { PostgresLedger } from '@pay/ledger-store';

/** How many opened account ids an instance remembers before it starts over (memory bound). */
const REMEMBERED_ACCOUNTS = 10_000;

/**
 * Opens ledger accounts lazily. Opening is idempotent in the ledger (same id and definition:
 * the existing account), so this only saves the round trip for accounts this instance has
 * already opened; a different definition under a known id is refused by the ledger
 * (IDEMPOTENCY_CONFLICT).
 */
export class LedgerAccounts {
  private readonly opened = new Set<string>();

  constructor(private readonly ledger: PostgresLedger) {}

  async ensureOpen(accounts: readonly OpenAccountInput[]): Promise<void> {
    for (const account of accounts) {
      if (this.opened.has(account.id)) continue;
      await this.ledger.openAccount(account);
      if (this.opened.size >= REMEMBERED_ACCOUNTS) this.opened.clear();
      this.opened.add(account.id);
    }
  }
}
