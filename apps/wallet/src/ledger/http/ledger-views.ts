import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Account, BalanceSummary, JournalEntry } from '@pay/ledger-domain';
import type { AccountBalance, StatementLine, StatementPage } from '@pay/ledger-store';

/** Response bodies. Amounts and positions are decimal strings: they are bigints. */

export class AccountView {
  @ApiProperty({ example: 'wallet-u-123-eur' }) id!: string;
  @ApiProperty({ enum: ['person', 'merchant', 'non_profit', 'system'] }) ownerType!: string;
  @ApiProperty() ownerId!: string;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ enum: ['debit', 'credit'], description: 'The side that increases the balance.' }) normalSide!: string;
  @ApiProperty({ type: String, nullable: true, example: '0', description: 'Balance guard: the available balance never goes below it; null = unguarded.' })
  minBalance!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) metadata!: Record<string, string>;
}

export class PostingView {
  @ApiProperty() accountId!: string;
  @ApiProperty({ enum: ['debit', 'credit'] }) direction!: string;
  @ApiProperty({ example: '1250' }) amount!: string;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ enum: ['posted', 'pending', 'released'], description: 'posted money, a hold, or the release of a hold' }) layer!: string;
}

export class EntryView {
  @ApiProperty() transactionId!: string;
  @ApiProperty({ example: '42', description: 'Position in the journal (1, 2, 3 ... without gaps).' }) position!: string;
  @ApiProperty({ enum: ['transfer', 'reversal', 'reserve', 'post_pending', 'void_pending', 'expire_pending'] }) kind!: string;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
  @ApiProperty({ type: [PostingView] }) postings!: PostingView[];
  @ApiPropertyOptional() reverses?: string;
  @ApiPropertyOptional() reservationId?: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiresAt?: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) metadata!: Record<string, string>;
  @ApiProperty({ description: 'SHA-256 of the entry in the journal hash chain.' }) hash!: string;
  @ApiProperty({ description: 'True when this id was recorded before: the first result is returned.' }) replayed!: boolean;
}

export class BalanceSummaryView {
  @ApiProperty({ example: '10000', description: 'Posted balance on the normal side.' }) posted!: string;
  @ApiProperty({ example: '0', description: 'Holds that will increase the balance.' }) pendingIncoming!: string;
  @ApiProperty({ example: '2500', description: 'Holds that will decrease the balance; already unavailable.' }) pendingOutgoing!: string;
  @ApiProperty({ example: '7500', description: 'posted - pendingOutgoing: what can be spent.' }) available!: string;
}

export class BalanceView extends BalanceSummaryView {
  @ApiProperty() accountId!: string;
  @ApiProperty() currency!: string;
  @ApiProperty({ enum: ['debit', 'credit'] }) normalSide!: string;
  @ApiProperty({ example: '42', description: 'The journal position the balance is read at.' }) asOfPosition!: string;
  @ApiProperty() debitsPosted!: string;
  @ApiProperty() creditsPosted!: string;
  @ApiProperty() debitsPending!: string;
  @ApiProperty() creditsPending!: string;
}

export class StatementLineView {
  @ApiProperty() position!: string;
  @ApiProperty() transactionId!: string;
  @ApiProperty() kind!: string;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
  @ApiPropertyOptional() reverses?: string;
  @ApiPropertyOptional() reservationId?: string;
  @ApiProperty({ type: [PostingView], description: "This account's postings in the entry." }) postings!: PostingView[];
  @ApiProperty({ type: BalanceSummaryView, description: 'The running balance after the entry.' }) balanceAfter!: BalanceSummaryView;
}

export class StatementView {
  @ApiProperty() accountId!: string;
  @ApiProperty() currency!: string;
  @ApiProperty({ enum: ['debit', 'credit'] }) normalSide!: string;
  @ApiProperty({ type: BalanceSummaryView, description: 'The balance before the first line.' }) opening!: BalanceSummaryView;
  @ApiProperty({ type: [StatementLineView] }) lines!: StatementLineView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last page.' }) nextCursor!: string | null;
}

export function accountView(account: Account): AccountView {
  return {
    id: account.id,
    ownerType: account.ownerType,
    ownerId: account.ownerId,
    currency: account.currency,
    normalSide: account.normalSide,
    minBalance: account.minBalance === null ? null : account.minBalance.toString(),
    metadata: { ...account.metadata },
  };
}

function postingViews(entry: Pick<JournalEntry, 'postings'>): PostingView[] {
  return entry.postings.map((p) => ({ accountId: p.accountId, direction: p.direction, amount: p.amount.toString(), currency: p.currency, layer: p.layer }));
}

export function entryView(entry: JournalEntry, replayed: boolean): EntryView {
  const view: EntryView = {
    transactionId: entry.transactionId,
    position: entry.position.toString(),
    kind: entry.kind,
    recordedAt: entry.recordedAt.toISOString(),
    postings: postingViews(entry),
    metadata: { ...entry.metadata },
    hash: entry.hash,
    replayed,
  };
  if (entry.reverses !== null) view.reverses = entry.reverses;
  if (entry.reservationId !== null) view.reservationId = entry.reservationId;
  if (entry.expiresAt !== null) view.expiresAt = entry.expiresAt.toISOString();
  return view;
}

function summaryView(summary: BalanceSummary): BalanceSummaryView {
  return {
    posted: summary.posted.toString(),
    pendingIncoming: summary.pendingIncoming.toString(),
    pendingOutgoing: summary.pendingOutgoing.toString(),
    available: summary.available.toString(),
  };
}

export function balanceView(balance: AccountBalance): BalanceView {
  return {
    accountId: balance.accountId,
    currency: balance.currency,
    normalSide: balance.normalSide,
    asOfPosition: balance.asOfPosition.toString(),
    ...summaryView(balance),
    debitsPosted: balance.totals.debitsPosted.toString(),
    creditsPosted: balance.totals.creditsPosted.toString(),
    debitsPending: balance.totals.debitsPending.toString(),
    creditsPending: balance.totals.creditsPending.toString(),
  };
}

function statementLineView(line: StatementLine): StatementLineView {
  const view: StatementLineView = {
    position: line.position.toString(),
    transactionId: line.transactionId,
    kind: line.kind,
    recordedAt: line.recordedAt.toISOString(),
    postings: postingViews(line),
    balanceAfter: summaryView(line.balanceAfter),
  };
  if (line.reverses !== null) view.reverses = line.reverses;
  if (line.reservationId !== null) view.reservationId = line.reservationId;
  return view;
}

export function statementView(page: StatementPage): StatementView {
  return {
    accountId: page.accountId,
    currency: page.currency,
    normalSide: page.normalSide,
    opening: summaryView(page.opening),
    lines: page.lines.map(statementLineView),
    nextCursor: page.nextCursor,
  };
}

/** The part of the HTTP response a handler needs to choose 200 or 201 (no express types). */
export interface StatusResponse {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}

/** 201 for what was recorded now; 200 and `Idempotent-Replayed: true` for a retry. */
export function markReplay(response: StatusResponse, replayed: boolean): void {
  response.status(replayed ? 200 : 201);
  if (replayed) response.setHeader('Idempotent-Replayed', 'true');
}
