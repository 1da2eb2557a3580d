import { createHmac } from 'node:crypto';
import type { Principal } from '@pay/auth';
import type { EntryRow } from './history-query';

/** Analysts' tokens without an `org` claim share this namespace. */
export const DEFAULT_ANALYST_ORGANISATION = 'analysts';

/**
 * Analysts see people only as pseudonyms: `psn_` and an HMAC-SHA256 of the person id, keyed with
 * HISTORY_PSEUDONYM_KEY and the analyst's organisation. Stable, so an analyst can still count
 * distinct people and follow one through the data; different per organisation, so two
 * organisations cannot join what they exported; not reversible without the key, which never
 * leaves this service (nor does any mapping: it is computed, never stored).
 */
export class PersonPseudonyms {
  constructor(private readonly key: string) {}

  of(organisation: string, personId: string): string {
    return `psn_${createHmac('sha256', this.key).update(`${organisation}\u0000${personId}`).digest('base64url').slice(0, 22)}`;
  }

  /**
   * How a caller sees the entries' rows: an analyst with pseudonyms for every person (payer, a
   * person payee) and no saved method's id; everyone else as they are.
   */
  viewFor(caller: Principal): ((row: EntryRow) => EntryRow) | undefined {
    if (caller.role !== 'analyst') return undefined;
    const organisation = caller.organisation ?? DEFAULT_ANALYST_ORGANISATION;
    return (row) => ({
      ...row,
      payer_id: this.of(organisation, row.payer_id),
      counterparty_id: row.counterparty_type === 'person' ? this.of(organisation, row.counterparty_id) : row.counterparty_id,
      method_id: null,
    });
  }
}
