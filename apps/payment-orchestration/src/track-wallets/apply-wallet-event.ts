import type { EventEnvelope, PaymentMethodAdded, PaymentMethodMadePreferred, PaymentMethodRemoved, WalletAppsChanged, WalletOpened } from '@pay/contracts';
import { PaymentMethodAddedV1, PaymentMethodMadePreferredV1, PaymentMethodRemovedV1, WalletAppsChangedV1, WalletOpenedV1 } from '@pay/contracts';
import type { Sql } from '../database/sql';

/**
 * Orchestration's read model of the wallets, kept from wallet.events.v1: where a person's wallet
 * is, in which apps Pay is on, their methods (removed or not) and the preferred one. The checks
 * read it; the wallet stays the owner. Events of one person arrive in order (keyed by person),
 * and each carries the person's change number (`sequence`): a holder's fields are only
 * overwritten by a later change, so a replayed or re-delivered old event changes nothing.
 * Removing a method is final, whatever order the events come in.
 */
export type WalletEventApplier = (sql: Sql, envelope: EventEnvelope) => Promise<void>;

async function upsertHolder(
  sql: Sql,
  personId: string,
  sequence: number,
  fields: { country?: string; apps?: readonly string[]; preferredMethodId?: string | null },
): Promise<void> {
  // A holder row may be created by any event (the opened event may be behind a dead letter); unknown fields stay null.
  await sql.query(
    `INSERT INTO wallet_holders (person_id, country, apps, preferred_method_id, sequence)
     VALUES ($1, $2, COALESCE($3::text[], '{}'), $4, $5)
     ON CONFLICT (person_id) DO UPDATE SET
       country = COALESCE(EXCLUDED.country, wallet_holders.country),
       apps = CASE WHEN $3::text[] IS NULL THEN wallet_holders.apps ELSE EXCLUDED.apps END,
       preferred_method_id = CASE WHEN $6::boolean THEN EXCLUDED.preferred_method_id ELSE wallet_holders.preferred_method_id END,
       sequence = EXCLUDED.sequence,
       updated_at = now()
     WHERE wallet_holders.sequence < EXCLUDED.sequence`,
    [
      personId,
      fields.country ?? null,
      fields.apps ? [...fields.apps] : null,
      fields.preferredMethodId ?? null,
      sequence,
      fields.preferredMethodId !== undefined,
    ],
  );
}

async function touchHolder(sql: Sql, personId: string, sequence: number): Promise<void> {
  await upsertHolder(sql, personId, sequence, {});
}

const opened: WalletEventApplier = async (sql, envelope) => {
  const data = envelope.data as WalletOpened;
  await upsertHolder(sql, data.personId, envelope.sequence, { country: data.country, apps: data.apps });
};

const appsChanged: WalletEventApplier = async (sql, envelope) => {
  const data = envelope.data as WalletAppsChanged;
  await upsertHolder(sql, data.personId, envelope.sequence, { apps: data.apps });
};

const methodAdded: WalletEventApplier = async (sql, envelope) => {
  const data = envelope.data as PaymentMethodAdded;
  await sql.query(
    `INSERT INTO wallet_methods (method_id, person_id, kind) VALUES ($1, $2, $3)
     ON CONFLICT (method_id) DO UPDATE SET kind = EXCLUDED.kind`,
    [data.methodId, data.personId, data.kind],
  );
  if (data.preferred) await upsertHolder(sql, data.personId, envelope.sequence, { preferredMethodId: data.methodId });
  else await touchHolder(sql, data.personId, envelope.sequence);
};

const madePreferred: WalletEventApplier = async (sql, envelope) => {
  const data = envelope.data as PaymentMethodMadePreferred;
  await upsertHolder(sql, data.personId, envelope.sequence, { preferredMethodId: data.methodId });
};

const methodRemoved: WalletEventApplier = async (sql, envelope) => {
  const data = envelope.data as PaymentMethodRemoved;
  await sql.query(
    `INSERT INTO wallet_methods (method_id, person_id, removed) VALUES ($1, $2, true)
     ON CONFLICT (method_id) DO UPDATE SET removed = true, updated_at = now()`,
    [data.methodId, data.personId],
  );
  // The preferred method is gone: the wallet has none until the person picks one.
  if (data.wasPreferred) await upsertHolder(sql, data.personId, envelope.sequence, { preferredMethodId: null });
  else await touchHolder(sql, data.personId, envelope.sequence);
};

/** Handlers by event type; other wallet events (PIN, consent, contact) do not matter to payments. */
export const WALLET_READ_MODEL_APPLIERS: Readonly<Record<string, WalletEventApplier>> = {
  [WalletOpenedV1.type]: opened,
  [WalletAppsChangedV1.type]: appsChanged,
  [PaymentMethodAddedV1.type]: methodAdded,
  [PaymentMethodMadePreferredV1.type]: madePreferred,
  [PaymentMethodRemovedV1.type]: methodRemoved,
};
