import type { Account, OpenAccountInput } from '@pay/ledger-domain';
import { defineAccount, LedgerError, sameAccountDefinition } from '@pay/ledger-domain';
import type { AccountRow } from './journal-rows';
import { accountFromRow } from './journal-rows';
import type { Sql } from './sql';

const ACCOUNT_COLUMNS = 'id, owner_type, owner_id, currency, normal_side, min_balance, metadata';

/**
 * Opens an account and its zero balance row in one statement. Idempotent by id: the same
 * definition returns the existing account, a different one is a conflict.
 */
export async function openAccount(sql: Sql, input: OpenAccountInput): Promise<{ account: Account; created: boolean }> {
  const account = defineAccount(input);
  const inserted = await sql.query<{ id: string }>(
    `WITH inserted AS (
       INSERT INTO accounts (id, owner_type, owner_id, currency, normal_side, min_balance, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
       ON CONFLICT (id) DO NOTHING
       RETURNING id, normal_side, min_balance
     )
     INSERT INTO balances (account_id, normal_side, min_balance)
     SELECT id, normal_side, min_balance FROM inserted
     RETURNING account_id AS id`,
    [
      account.id,
      account.ownerType,
      account.ownerId,
      account.currency,
      account.normalSide,
      account.minBalance === null ? null : account.minBalance.toString(),
      JSON.stringify(account.metadata),
    ],
  );
  if (inserted.length === 1) return { account, created: true };
  const existing = await findAccount(sql, account.id);
  if (existing && sameAccountDefinition(existing, account)) return { account: existing, created: false };
  throw new LedgerError('IDEMPOTENCY_CONFLICT', `account ${account.id} already exists with a different definition`, { accountId: account.id });
}

export async function findAccount(sql: Sql, id: string): Promise<Account | undefined> {
  const [row] = await sql.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1`, [id]);
  return row ? accountFromRow(row) : undefined;
}
