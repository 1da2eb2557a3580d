import type { MethodFacts, WalletFacts } from '../check-purchase/check-purchase';
import type { Sql } from '../database/sql';

interface HolderRow {
  person_id: string;
  country: string | null;
  apps: string[];
  preferred_method_id: string | null;
}

interface MethodRow {
  method_id: string;
  person_id: string;
  removed: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads of the wallet read model (track-wallets/apply-wallet-event.ts keeps it). */
export const walletReadModel = {
  async holder(sql: Sql, personId: string): Promise<WalletFacts | undefined> {
    const [row] = await sql.query<HolderRow>('SELECT person_id, country, apps, preferred_method_id FROM wallet_holders WHERE person_id = $1', [personId]);
    if (!row) return undefined;
    return {
      personId: row.person_id,
      ...(row.country ? { country: row.country } : {}),
      apps: row.apps,
      ...(row.preferred_method_id ? { preferredMethodId: row.preferred_method_id } : {}),
    };
  },

  async method(sql: Sql, methodId: string): Promise<MethodFacts | undefined> {
    // Method ids are UUIDs; anything else names no method (and must not reach a uuid column).
    if (!UUID.test(methodId)) return undefined;
    const [row] = await sql.query<MethodRow>('SELECT method_id, person_id, removed FROM wallet_methods WHERE method_id = $1', [methodId]);
    return row ? { methodId: row.method_id, personId: row.person_id, removed: row.removed } : undefined;
  },
};
