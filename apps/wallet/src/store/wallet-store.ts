import { Inject, Injectable } from '@nestjs/common';
import type { EventDefinition, WalletEventData } from '@pay/contracts';
import { createEvent } from '@pay/contracts';
import { appendToOutbox } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import type { Sql } from '@pay/platform';
import { LOGGER, sqlOfTransaction } from '@pay/platform';
import { DataSource } from 'typeorm';
import { walletNotFound } from '../domain/wallet-error';

export interface WalletRow {
  person_id: string;
  country: string;
  apps: string[];
  preferred_method_id: string | null;
  ad_measurement_consent: boolean;
  consent_source: 'default' | 'person';
  consent_updated_at: Date;
  contact_email: string | null;
  contact_phone: string | null;
  event_sequence: string;
  created_at: Date;
  updated_at: Date;
}

/** Advisory-lock namespace of wallet changes (any constant unique among this schema's locks). */
const WALLET_LOCK_NAMESPACE = 0x57414c4c; // "WALL"

type EventFields<T> = Omit<T, keyof WalletEventData>;

/**
 * One change to one person's wallet, inside one database transaction. Events emitted here are
 * numbered per person and written to the outbox by the same transaction, so they are published
 * exactly when the change commits, in the order of their numbers.
 */
export class WalletChange {
  private readonly pending: { definition: EventDefinition; data: object }[] = [];

  constructor(
    readonly sql: Sql,
    readonly personId: string,
    readonly actor: string,
  ) {}

  /** The wallet, or the one 404 for "absent or not yours". */
  async wallet(): Promise<WalletRow> {
    const rows = await this.sql.query<WalletRow>('SELECT * FROM wallets WHERE person_id = $1', [this.personId]);
    if (!rows[0]) throw walletNotFound();
    return rows[0];
  }

  emit<T extends WalletEventData>(definition: EventDefinition<T>, data: EventFields<T>): void {
    this.pending.push({ definition: definition, data: { personId: this.personId, actor: this.actor, ...data } });
  }

  /** Numbers the emitted events after the person's last one and appends them to the outbox; returns what it wrote. */
  async flush(): Promise<{ type: string; sequence: number }[]> {
    if (this.pending.length === 0) return [];
    const rows = await this.sql.query<{ event_sequence: string }>(
      'UPDATE wallets SET event_sequence = event_sequence + $2, updated_at = now() WHERE person_id = $1 RETURNING event_sequence',
      [this.personId, this.pending.length],
    );
    const last = Number(rows[0].event_sequence);
    const first = last - this.pending.length + 1;
    const messages = this.pending.map(({ definition, data }, index) => ({
      topic: definition.topic,
      envelope: createEvent({ definition, source: 'wallet', subject: this.personId, sequence: first + index, data }),
    }));
    await appendToOutbox(this.sql, messages);
    this.pending.length = 0;
    return messages.map(({ envelope }) => ({ type: envelope.type, sequence: envelope.sequence }));
  }
}

/** Wallet rows and the transactions that change them. */
@Injectable()
export class WalletStore {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async find(personId: string): Promise<WalletRow | undefined> {
    const rows: WalletRow[] = await this.dataSource.query('SELECT * FROM wallets WHERE person_id = $1', [personId]);
    return rows[0];
  }

  async get(personId: string): Promise<WalletRow> {
    const wallet = await this.find(personId);
    if (!wallet) throw walletNotFound();
    return wallet;
  }

  /**
   * Runs `work` as one transaction holding the person's lock. The lock is taken before the
   * transaction writes anything, hence before PostgreSQL gives it a transaction id: a later
   * change of the same person always gets a higher id, and the outbox relay (which publishes in
   * transaction-id order) never puts event n+1 before event n.
   */
  async change<T>(personId: string, actor: string, work: (change: WalletChange) => Promise<T>): Promise<T> {
    // PostgreSQL's default isolation (READ COMMITTED), without a SET TRANSACTION round trip.
    const { result, events } = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [WALLET_LOCK_NAMESPACE, personId]);
      const change = new WalletChange(sqlOfTransaction(manager), personId, actor);
      const outcome = await work(change);
      return { result: outcome, events: await change.flush() };
    });
    // Ids, types and positions only: what changed is in the (secret-free) events themselves.
    if (events.length > 0) this.logger.info({ personId, actor, events }, 'wallet changed');
    return result;
  }
}
