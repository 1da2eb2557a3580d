import type { DataSource } from 'typeorm';

/**
 * Spends a support case reference (its `jti`): true the first time, false ever after. One
 * statement: the insert decides between concurrent uses, and cases expired for a minute are
 * forgotten on the way (a row is needed only until its case expires; support refunds are few).
 */
export async function spendSupportCase(dataSource: DataSource, caseId: string, expiresAt: Date): Promise<boolean> {
  const rows = await dataSource.query<Array<{ case_id: string }>>(
    `WITH forgotten AS (DELETE FROM spent_support_cases WHERE expires_at < now() - interval '1 minute')
     INSERT INTO spent_support_cases (case_id, expires_at) VALUES ($1, $2)
     ON CONFLICT (case_id) DO NOTHING
     RETURNING case_id`,
    [caseId, expiresAt],
  );
  return rows.length === 1;
}
