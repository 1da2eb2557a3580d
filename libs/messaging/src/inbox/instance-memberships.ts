import type { Logger } from '@pay/observability';
import { Client } from 'pg';

/**
 * The member id each consumer group of one instance of a service had, kept in the service's own
 * database so that the instance's next process (restarted after a crash) rejoins as that member
 * (ADR 0015). Written only by the live process of the instance, which holds the instance's lock.
 */
export const CONSUMER_GROUP_MEMBERS_TABLE_SQL = `
CREATE TABLE consumer_group_members (
  instance_id text        NOT NULL,
  group_id    text        NOT NULL,
  member_id   text        NOT NULL,
  joined_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (instance_id, group_id)
);
`;

export const DROP_CONSUMER_GROUP_MEMBERS_TABLE_SQL = 'DROP TABLE IF EXISTS consumer_group_members;';

/** What an InboxConsumer needs to rejoin as its instance's previous member and to record the member it is. */
export interface GroupMemberIds {
  /** The member id this instance last had in the group (undefined: none, or not to be used). */
  previous(groupId: string): string | undefined;
  /** The consumer joined the group as `memberId`. */
  joined(groupId: string, memberId: string): void;
  /** The consumer left the group (the broker answered): the next process joins as a new member. */
  left(groupId: string): void;
}

export interface ClaimInstanceOptions {
  connectionString: string;
  /** The service's schema, where consumer_group_members is. */
  schema: string;
  /** This replica: the same across restarts of its process, different from every other replica (the pod name). */
  instanceId: string;
  logger: Logger;
  /** The connection's application_name, e.g. `wallet-members`. */
  applicationName?: string;
  /**
   * How long to wait for the instance's lock (default 3 s): a dead predecessor's connection is
   * closed by its kernel at once, so a longer wait means another live process claims the instance.
   */
  lockWaitMs?: number;
}

const DEFAULT_LOCK_WAIT_MS = 3_000;

/**
 * The name of an instance's session advisory lock (taken as `pg_advisory_lock(hashtextextended(name, 0))`):
 * held by the instance's live process only, so a lock nobody holds is an instance with no live process.
 */
export const instanceLockName = (schema: string, instanceId: string): string => `consumer-group-members/${schema}/${instanceId}`;

/**
 * The claim of one instance of a service on the member ids of its consumer groups. The live
 * process holds a session-level advisory lock named after the schema and the instance on its own
 * PostgreSQL connection, for its whole life: a second live process given the same instance id
 * (a misconfiguration) does not get the lock and joins as new members, so two processes never
 * share a member id (they would both consume the same partitions). A process that dies loses its
 * connection, hence the lock, at once; its successor takes the lock and the ids. Every read and
 * write goes through the locked connection: if it is lost, nothing more is recorded or offered.
 */
export class InstanceMemberships implements GroupMemberIds {
  private readonly memberIds: Map<string, string>;
  private held = true;
  private readonly lostListeners: Array<() => void> = [];

  /** The instance this process holds the lock of. */
  get instanceId(): string {
    return this.options.instanceId;
  }

  /** Whether this process still holds the instance's lock (false once its connection is lost or released). */
  get holdsLock(): boolean {
    return this.held;
  }

  /** Called once, when the lock's connection is lost while the process lives (not on release()). */
  onLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }
  /** Writes in the order they were asked for; release() waits for them. */
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: Client,
    private readonly table: string,
    private readonly options: ClaimInstanceOptions,
    rows: ReadonlyArray<{ group_id: string; member_id: string }>,
  ) {
    this.memberIds = new Map(rows.map((row) => [row.group_id, row.member_id]));
    client.on('error', (error) => this.lost(error.message));
    client.on('end', () => this.lost('connection closed'));
  }

  /**
   * Takes the instance's lock and reads its member ids. Undefined when the lock is held by another
   * live process, or PostgreSQL cannot be asked: the consumers then join as new members (logged).
   */
  static async claim(options: ClaimInstanceOptions): Promise<InstanceMemberships | undefined> {
    const { connectionString, schema, instanceId, logger } = options;
    const table = `"${schema.replace(/"/g, '""')}".consumer_group_members`;
    const client = new Client({ connectionString, application_name: options.applicationName ?? 'consumer-group-members' });
    // An error of the idle connection before the constructor listens must not crash the process.
    const early = (): void => undefined;
    client.on('error', early);
    try {
      await client.connect();
      await client.query("SELECT set_config('lock_timeout', $1, false)", [`${options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS}ms`]);
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [instanceLockName(schema, instanceId)]);
      await client.query("SELECT set_config('lock_timeout', '0', false)");
      const { rows } = await client.query<{ group_id: string; member_id: string }>(`SELECT group_id, member_id FROM ${table} WHERE instance_id = $1`, [
        instanceId,
      ]);
      const memberships = new InstanceMemberships(client, table, options, rows);
      client.off('error', early);
      logger.info(
        { instanceId, groups: rows.map((row) => row.group_id) },
        rows.length > 0
          ? 'consumer groups: this instance rejoins as the members its previous process was'
          : 'consumer groups: this instance has no previous members; it joins as new members',
      );
      return memberships;
    } catch (error) {
      await client.end().catch(() => undefined);
      const lockHeld = (error as { code?: string }).code === '55P03';
      logger.warn(
        { instanceId, reason: (error as Error).message },
        lockHeld
          ? 'consumer groups: another live process holds this instance id (KAFKA_GROUP_INSTANCE_ID must differ between replicas); joining as new members'
          : 'consumer groups: the previous member ids could not be read; joining as new members',
      );
      return undefined;
    }
  }

  previous(groupId: string): string | undefined {
    return this.held ? this.memberIds.get(groupId) : undefined;
  }

  joined(groupId: string, memberId: string): void {
    if (!this.held || this.memberIds.get(groupId) === memberId) return;
    this.memberIds.set(groupId, memberId);
    this.write(
      `INSERT INTO ${this.table} (instance_id, group_id, member_id) VALUES ($1, $2, $3)
       ON CONFLICT (instance_id, group_id) DO UPDATE SET member_id = EXCLUDED.member_id, joined_at = now()`,
      [this.options.instanceId, groupId, memberId],
    );
  }

  left(groupId: string): void {
    if (!this.held || !this.memberIds.delete(groupId)) return;
    this.write(`DELETE FROM ${this.table} WHERE instance_id = $1 AND group_id = $2`, [this.options.instanceId, groupId]);
  }

  /** Waits for the writes asked for, then closes the connection, which releases the instance's lock. */
  async release(): Promise<void> {
    await this.writes;
    if (!this.held) return;
    this.held = false;
    await this.client.end().catch(() => undefined);
  }

  private write(text: string, values: unknown[]): void {
    this.writes = this.writes
      .then(async () => {
        if (this.held) await this.client.query(text, values);
      })
      .catch((error: unknown) =>
        this.options.logger.warn({ instanceId: this.options.instanceId, reason: (error as Error).message }, 'consumer groups: a member id was not recorded'),
      );
  }

  private lost(reason: string): void {
    if (!this.held) return;
    this.held = false;
    this.options.logger.warn(
      { instanceId: this.options.instanceId, reason },
      "consumer groups: the instance's lock connection was lost; member ids are no longer recorded (the next process joins as new members)",
    );
    for (const listener of this.lostListeners) listener();
  }
}
