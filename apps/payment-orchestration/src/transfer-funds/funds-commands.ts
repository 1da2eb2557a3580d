import { randomUUID } from 'node:crypto';
import type { FundsCommandAttester } from '@pay/auth';
import { FUNDS_COMMAND_ATTESTATION_HEADER } from '@pay/auth';
import type { EventDefinition, EventEnvelope } from '@pay/contracts';
import { createEvent, Topics } from '@pay/contracts';
import { appendToOutbox } from '@pay/messaging';
import type { Sql } from '../database/sql';

/** The Nest token of this service's FundsCommandAttester (null without SERVICE_TOKEN_SIGNING_JWK). */
export const FUNDS_COMMAND_ATTESTER = Symbol('FundsCommandAttester');

export type FundsCommandType = 'reserve' | 'post' | 'void' | 'return';

export interface SentFundsCommand {
  readonly commandId: string;
  readonly paymentId: string;
  readonly type: FundsCommandType;
  /** The refund a `return` command gives money back for. */
  readonly refundId?: string;
}

interface CommandRow {
  command_id: string;
  payment_id: string;
  type: FundsCommandType;
  refund_id: string | null;
}

const commandOf = (row: CommandRow): SentFundsCommand => ({
  commandId: row.command_id,
  paymentId: row.payment_id,
  type: row.type,
  ...(row.refund_id ? { refundId: row.refund_id } : {}),
});

/**
 * Commands to the wallet on wallet.commands.v1, written to the outbox in the caller's transaction
 * (with the payment event that makes them necessary) and remembered in `funds_commands`: an
 * answer is matched to its command by `commandId`, and the envelope's sequence numbers a
 * payment's commands 1, 2, … so the wallet sees them in order. Each carries orchestration's
 * attestation of exactly that command (`funds-command-attestation` header, signed with its own key):
 * the wallet dead-letters a command without one. No attester (no SERVICE_TOKEN_SIGNING_JWK): sent
 * without, and refused by the wallet.
 */
export const fundsCommands = {
  async send<T extends object>(
    sql: Sql,
    attester: FundsCommandAttester | undefined,
    paymentId: string,
    type: FundsCommandType,
    definition: EventDefinition<T>,
    data: Omit<T, 'commandId' | 'paymentId'>,
    context: { correlationId?: string; causationId?: string } = {},
  ): Promise<EventEnvelope> {
    const [{ next }] = await sql.query<{ next: number }>('SELECT COALESCE(max(sequence), 0) + 1 AS next FROM funds_commands WHERE payment_id = $1', [
      paymentId,
    ]);
    const commandId = randomUUID();
    const envelope = createEvent({
      definition,
      source: 'payment-orchestration',
      subject: paymentId,
      sequence: next,
      data: { ...data, commandId, paymentId } as unknown as T,
      ...(context.correlationId ? { correlationId: context.correlationId } : {}),
      ...(context.causationId ? { causationId: context.causationId } : {}),
    });
    await sql.query('INSERT INTO funds_commands (command_id, payment_id, sequence, type, envelope) VALUES ($1, $2, $3, $4, $5::jsonb)', [
      commandId,
      paymentId,
      next,
      type,
      JSON.stringify(envelope),
    ]);
    const headers = attester ? { [FUNDS_COMMAND_ATTESTATION_HEADER]: await attester.attest(envelope) } : undefined;
    await appendToOutbox(sql, [{ topic: Topics.walletCommands, envelope, ...(headers ? { headers } : {}) }]);
    return envelope;
  },

  async find(sql: Sql, commandId: string): Promise<SentFundsCommand | undefined> {
    const [row] = await sql.query<CommandRow>(
      "SELECT command_id, payment_id, type, envelope->'data'->>'refundId' AS refund_id FROM funds_commands WHERE command_id = $1",
      [commandId],
    );
    return row ? commandOf(row) : undefined;
  },

  async ofPayment(sql: Sql, paymentId: string): Promise<SentFundsCommand[]> {
    const rows = await sql.query<CommandRow>(
      "SELECT command_id, payment_id, type, envelope->'data'->>'refundId' AS refund_id FROM funds_commands WHERE payment_id = $1 ORDER BY sequence",
      [paymentId],
    );
    return rows.map(commandOf);
  },
};
