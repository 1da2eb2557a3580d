import type { Balance } from '@pay/ledger-domain';
import { sameBalance } from '@pay/ledger-domain';
import { lockChainHead } from './journal-appender';
import type { Sql } from './sql';
import { toBigInt } from './sql';

export interface BalanceDrift {
  readonly accountId: string;
  readonly maintained: Balance;
  readonly rebuilt: Balance;
}

export interface RebuildReport {
  readonly accounts: number;
  /** Accounts whose maintained balance differed from the journal and was corrected. */
  readonly corrected: readonly BalanceDrift[];
  readonly pendingReservations: number;
  readonly pendingReservationsCorrected: boolean;
}

interface DriftRow {
  account_id: string;
  m_dp: string;
  m_cp: string;
  m_dpe: string;
  m_cpe: string;
  r_dp: string;
  r_cp: string;
  r_dpe: string;
  r_cpe: string;
}

/** Every account's totals recomputed from the postings alone. */
const REBUILT_TOTALS = `
  SELECT a.id AS account_id,
         coalesce(sum(p.amount) FILTER (WHERE p.direction = 'debit' AND p.layer = 'posted'), 0) AS debits_posted,
         coalesce(sum(p.amount) FILTER (WHERE p.direction = 'credit' AND p.layer = 'posted'), 0) AS credits_posted,
         coalesce(sum(CASE p.layer WHEN 'pending' THEN p.amount ELSE -p.amount END) FILTER (WHERE p.direction = 'debit' AND p.layer <> 'posted'), 0) AS debits_pending,
         coalesce(sum(CASE p.layer WHEN 'pending' THEN p.amount ELSE -p.amount END) FILTER (WHERE p.direction = 'credit' AND p.layer <> 'posted'), 0) AS credits_pending
    FROM accounts a LEFT JOIN postings p ON p.account_id = a.id
   GROUP BY a.id`;

/** Holds with no resolution, recomputed from the journal. */
const REBUILT_PENDING = `
  SELECT r.transaction_id AS reservation_id, r.position, r.expires_at
    FROM journal_entries r
   WHERE r.kind = 'reserve'
     AND NOT EXISTS (SELECT 1 FROM journal_entries x
                      WHERE x.reservation_id = r.transaction_id AND x.kind IN ('post_pending', 'void_pending', 'expire_pending'))`;

/** Accounts whose maintained balance differs from the journal (read-only). */
export async function balanceDrift(sql: Sql): Promise<BalanceDrift[]> {
  const rows = await sql.query<DriftRow>(
    `SELECT b.account_id, b.debits_posted AS m_dp, b.credits_posted AS m_cp, b.debits_pending AS m_dpe, b.credits_pending AS m_cpe,
            r.debits_posted AS r_dp, r.credits_posted AS r_cp, r.debits_pending AS r_dpe, r.credits_pending AS r_cpe
       FROM balances b JOIN (${REBUILT_TOTALS}) r ON r.account_id = b.account_id
      ORDER BY b.account_id`,
  );
  return rows
    .map((row) => ({
      accountId: row.account_id,
      maintained: {
        debitsPosted: toBigInt(row.m_dp),
        creditsPosted: toBigInt(row.m_cp),
        debitsPending: toBigInt(row.m_dpe),
        creditsPending: toBigInt(row.m_cpe),
      },
      rebuilt: { debitsPosted: toBigInt(row.r_dp), creditsPosted: toBigInt(row.r_cp), debitsPending: toBigInt(row.r_dpe), creditsPending: toBigInt(row.r_cpe) },
    }))
    .filter((drift) => !sameBalance(drift.maintained, drift.rebuilt));
}

/**
 * Recomputes the derived tables (balances, pending holds) from the journal and corrects any
 * difference. It holds the chain-head lock, so no batch appends meanwhile, and runs in the
 * caller's transaction: all corrected or none.
 */
export async function rebuildBalances(sql: Sql): Promise<RebuildReport> {
  // Moving the head's version tells a batch that waited for it to read balances again.
  await lockChainHead(sql, { moving: true });
  const corrected = await balanceDrift(sql);
  await sql.query(
    `UPDATE balances b
        SET debits_posted = r.debits_posted, credits_posted = r.credits_posted,
            debits_pending = r.debits_pending, credits_pending = r.credits_pending
       FROM (${REBUILT_TOTALS}) r
      WHERE r.account_id = b.account_id
        AND (b.debits_posted, b.credits_posted, b.debits_pending, b.credits_pending)
            IS DISTINCT FROM (r.debits_posted, r.credits_posted, r.debits_pending, r.credits_pending)`,
  );
  const [pendingDiff] = await sql.query<{ differs: boolean }>(
    `SELECT EXISTS (
       (SELECT reservation_id, position, expires_at FROM pending_reservations EXCEPT ${REBUILT_PENDING})
       UNION ALL
       (${REBUILT_PENDING} EXCEPT SELECT reservation_id, position, expires_at FROM pending_reservations)
     ) AS differs`,
  );
  const differs = pendingDiff?.differs === true;
  if (differs) {
    await sql.query('DELETE FROM pending_reservations');
    await sql.query(`INSERT INTO pending_reservations (reservation_id, position, expires_at) ${REBUILT_PENDING}`);
  }
  const [counts] = await sql.query<{ accounts: string; pending: string }>(
    'SELECT (SELECT count(*) FROM balances) AS accounts, (SELECT count(*) FROM pending_reservations) AS pending',
  );
  return {
    accounts: Number(counts?.accounts ?? 0),
    corrected,
    pendingReservations: Number(counts?.pending ?? 0),
    pendingReservationsCorrected: differs,
  };
}
