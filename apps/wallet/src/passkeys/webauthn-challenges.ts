import type { Sql } from '@pay/platform';

export type Ceremony = 'registration' | 'step-up';

export interface ChallengeRow {
  challenge: string;
  person_id: string;
  ceremony: Ceremony;
  ceiling_amount: string | null;
  ceiling_currency: string | null;
  expires_at: Date;
}

/**
 * Challenges of WebAuthn ceremonies, kept server-side. Issuing one also deletes every expired
 * challenge (so the table holds only live ones); using one deletes it, whatever the outcome, so
 * a challenge is accepted at most once even when the assertion under it fails.
 */
export const webauthnChallenges = {
  async issue(
    sql: Sql,
    row: { challenge: string; personId: string; ceremony: Ceremony; ceiling?: { amount: string; currency: string }; expiresAt: Date; now: Date },
  ): Promise<void> {
    await sql.query('DELETE FROM webauthn_challenges WHERE expires_at <= $1', [row.now]);
    await sql.query(
      'INSERT INTO webauthn_challenges (challenge, person_id, ceremony, ceiling_amount, ceiling_currency, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [row.challenge, row.personId, row.ceremony, row.ceiling?.amount ?? null, row.ceiling?.currency ?? null, row.expiresAt],
    );
  },

  /**
   * Takes the person's challenge out of the store (used up, whatever follows) and returns it if
   * it is of this ceremony and has not expired; otherwise undefined. Another person's challenge
   * is left to them.
   */
  async take(sql: Sql, challenge: string, personId: string, ceremony: Ceremony, now: Date): Promise<ChallengeRow | undefined> {
    const rows = await sql.query<ChallengeRow>('DELETE FROM webauthn_challenges WHERE challenge = $1 AND person_id = $2 RETURNING *', [challenge, personId]);
    const row = rows[0];
    return row && row.ceremony === ceremony && row.expires_at.getTime() > now.getTime() ? row : undefined;
  },
};
