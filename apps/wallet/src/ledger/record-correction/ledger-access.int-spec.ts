/**
 * Who may move money through the ledger's HTTP API, attacked as an attacker would (issue 14,
 * finding 2), against the whole wallet service with its real authentication: an app backend's
 * service token, an operator without a reason, a debit of a system account and a person are
 * each refused with nothing posted; an operator's correction with a reason is posted and audited.
 */
import { uniqueName } from '@pay/testing';
import { personWallet, topups } from '../../money/chart-of-accounts';
import type { MoneyWallet } from '../../money/test/money-test-kit';
import { balanceOf, startMoneyWallet, topUp } from '../../money/test/money-test-kit';

let wallet: MoneyWallet;
let appBackend: string;
let orchestration: string;
let operator: string;
let person: string;
const alice = uniqueName('alice');
const bob = uniqueName('bob');
const aliceWallet = personWallet(alice, 'EUR');
const bobWallet = personWallet(bob, 'EUR');

const posting = (accountId: string, direction: 'debit' | 'credit', amount: string) => ({ accountId, direction, amount, currency: 'EUR' });

async function journalRows(ids: string[]): Promise<number> {
  const [row] = await wallet.query<{ n: string }>('SELECT count(*) AS n FROM journal_entries WHERE transaction_id = ANY($1)', [ids]);
  return Number(row.n);
}

async function audited(id: string): Promise<Array<{ kind: string; reverses: string | null; reason: string; actor: string; ledger_position: string }>> {
  return wallet.query('SELECT kind, reverses, reason, actor, ledger_position FROM ledger_corrections WHERE transaction_id = $1', [id]);
}

beforeAll(async () => {
  wallet = await startMoneyWallet('ledger_access');
  appBackend = await wallet.signToken({ sub: 'instagram-shop', role: 'service' });
  orchestration = await wallet.signToken({ sub: 'payment-orchestration', role: 'service', scope: 'instruments:read' });
  operator = await wallet.signToken({ sub: 'ops-1', role: 'operator' });
  person = await wallet.signToken({ sub: alice, role: 'person' });
  await topUp(wallet, aliceWallet, 1_000n);
  await wallet.ledger.openAccount(bobWallet);
});

afterAll(async () => {
  await wallet?.stop();
});

describe('the raw write API', () => {
  const mint = (id: string) => ({ id, postings: [posting(topups('EUR').id, 'debit', '5000'), posting(bobWallet.id, 'credit', '5000')] });
  const hold = (id: string) => ({ id, debitAccountId: aliceWallet.id, creditAccountId: bobWallet.id, amount: '500', currency: 'EUR', ttlSeconds: 600 });

  it("is closed to an app backend's service token, a platform service without ledger:write, an operator and a person: 403, nothing posted", async () => {
    for (const token of [appBackend, orchestration, operator, person]) {
      const id = uniqueName('attack');
      expect((await wallet.http('POST', '/v1/ledger/transactions', mint(id), token)).status).toBe(403);
      expect((await wallet.http('POST', '/v1/ledger/transactions', { id: `${id}-r`, reverses: id }, token)).status).toBe(403);
      expect((await wallet.http('POST', '/v1/ledger/reservations', hold(`${id}-h`), token)).status).toBe(403);
      const account = { id: `${id}-acc`, ownerType: 'system', ownerId: 'mint', currency: 'EUR', normalSide: 'debit' };
      expect((await wallet.http('POST', '/v1/ledger/accounts', account, token)).status).toBe(403);
      expect(await journalRows([id, `${id}-r`, `${id}-h`])).toBe(0);
      expect(await wallet.ledger.findAccount(`${id}-acc`)).toBeUndefined();
    }
    expect(await balanceOf(wallet, bobWallet.id)).toMatchObject({ posted: '0' });
  });

  it('never debits a system account, even for a holder of ledger:write', async () => {
    const id = uniqueName('mint');
    expect(await wallet.http('POST', '/v1/ledger/transactions', mint(id))).toMatchObject({ status: 403, body: { code: 'SYSTEM_ACCOUNT_DEBIT_REFUSED' } });
    expect(await journalRows([id])).toBe(0);
  });

  it('answers reads to operators only', async () => {
    const path = `/v1/ledger/accounts/${aliceWallet.id}/balance`;
    for (const token of [appBackend, orchestration, person]) expect((await wallet.http('GET', path, undefined, token)).status).toBe(403);
    expect(await wallet.http('GET', path, undefined, operator)).toMatchObject({ status: 200, body: { posted: '1000' } });
  });
});

describe('corrections', () => {
  const correct = (body: unknown, token = operator) => wallet.http('POST', '/v1/ledger/corrections', body, token);
  const reason = 'Ticket OPS-42: transfer credited to the wrong person';

  it('are refused to anyone but an operator: 403, nothing posted', async () => {
    const id = uniqueName('corr');
    const body = { id, reason, postings: [posting(aliceWallet.id, 'debit', '100'), posting(bobWallet.id, 'credit', '100')] };
    for (const token of [appBackend, orchestration, person, await wallet.signToken({ sub: 'x', role: 'service', scope: 'ledger:write' })]) {
      expect((await correct(body, token)).status).toBe(403);
    }
    expect(await journalRows([id])).toBe(0);
    expect(await audited(id)).toEqual([]);
  });

  it('need a reason: 400, nothing posted', async () => {
    const id = uniqueName('corr');
    const postings = [posting(aliceWallet.id, 'debit', '100'), posting(bobWallet.id, 'credit', '100')];
    for (const body of [
      { id, postings },
      { id, postings, reason: '' },
      { id, postings, reason: 'because' },
    ]) {
      const answer = await correct(body);
      expect(answer).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
      expect(JSON.stringify(answer.body.details)).toContain('reason');
    }
    expect(await correct({ id, reason })).toMatchObject({ status: 400 });
    expect(await journalRows([id])).toBe(0);
    expect(await audited(id)).toEqual([]);
  });

  it('never debit a system account, nor touch one that is not listed: 403, nothing posted', async () => {
    await wallet.ledger.openAccount({
      id: 'system.suspense.EUR',
      ownerType: 'system',
      ownerId: 'suspense',
      currency: 'EUR',
      normalSide: 'debit',
      minBalance: null,
    });
    const attempts: Array<[string[], string, string]> = [
      [[topups('EUR').id, bobWallet.id], 'SYSTEM_ACCOUNT_DEBIT_REFUSED', '5000'],
      [['system.suspense.EUR', bobWallet.id], 'ACCOUNT_NOT_CORRECTABLE', '5000'],
      [[aliceWallet.id, 'system.suspense.EUR'], 'ACCOUNT_NOT_CORRECTABLE', '100'],
    ];
    for (const [[debited, credited], code, amount] of attempts) {
      const id = uniqueName('corr');
      const answer = await correct({ id, reason, postings: [posting(debited, 'debit', amount), posting(credited, 'credit', amount)] });
      expect([answer.status, answer.body.code]).toEqual([403, code]);
      expect(await journalRows([id])).toBe(0);
      expect(await audited(id)).toEqual([]);
    }
    expect(await balanceOf(wallet, bobWallet.id)).toMatchObject({ posted: '0' });
  });

  it('keep the ledger rules: an adjustment that overdraws a person is refused (422) and not audited', async () => {
    const id = uniqueName('corr');
    const answer = await correct({ id, reason, postings: [posting(aliceWallet.id, 'debit', '1001'), posting(bobWallet.id, 'credit', '1001')] });
    expect(answer).toMatchObject({ status: 422, body: { code: 'INSUFFICIENT_FUNDS' } });
    expect(await audited(id)).toEqual([]);
  });

  it("an operator's adjustment with a reason is posted and audited; a retry replays; its reversal is audited too", async () => {
    const id = uniqueName('corr');
    const body = { id, reason, postings: [posting(aliceWallet.id, 'debit', '300'), posting(bobWallet.id, 'credit', '300')] };
    const first = await correct(body);
    expect(first).toMatchObject({
      status: 201,
      body: { transactionId: id, kind: 'transfer', metadata: { correction: 'adjustment', correctedBy: 'operator:ops-1' } },
    });
    expect(await audited(id)).toEqual([{ kind: 'adjustment', reverses: null, reason, actor: 'operator:ops-1', ledger_position: first.body.position }]);
    expect(await correct(body)).toMatchObject({ status: 200, body: { transactionId: id, replayed: true } });
    expect(await correct({ ...body, reason: 'Ticket OPS-43: another story entirely' })).toMatchObject({ status: 409, body: { code: 'IDEMPOTENCY_CONFLICT' } });
    expect(await balanceOf(wallet, aliceWallet.id)).toMatchObject({ posted: '700' });
    expect(await balanceOf(wallet, bobWallet.id)).toMatchObject({ posted: '300' });

    const undo = uniqueName('corr');
    const reversal = await correct({ id: undo, reverses: id, reason: 'Ticket OPS-42: the transfer was right after all' });
    expect(reversal).toMatchObject({ status: 201, body: { kind: 'reversal', reverses: id, metadata: { correction: 'reversal' } } });
    expect(await audited(undo)).toMatchObject([{ kind: 'reversal', reverses: id, actor: 'operator:ops-1' }]);
    expect(await balanceOf(wallet, bobWallet.id)).toMatchObject({ posted: '0' });
    expect(await correct({ id: uniqueName('corr'), reverses: id, reason })).toMatchObject({ status: 422, body: { code: 'REVERSAL_EXCEEDS_ORIGINAL' } });
  });

  it('may credit a listed system account: money loaded by mistake goes back to top-ups', async () => {
    const id = uniqueName('corr');
    const answer = await correct({
      id,
      reason: 'Ticket OPS-44: top-up loaded twice',
      postings: [posting(aliceWallet.id, 'debit', '200'), posting(topups('EUR').id, 'credit', '200')],
    });
    expect(answer.status).toBe(201);
    expect(await audited(id)).toHaveLength(1);
  });

  it('are not a way to reuse the id of a transaction that is not a correction: 409', async () => {
    const id = uniqueName('plain');
    await wallet.ledger.record({
      type: 'transfer',
      transactionId: id,
      postings: [
        { accountId: aliceWallet.id, direction: 'debit', amount: 1n, currency: 'EUR' },
        { accountId: bobWallet.id, direction: 'credit', amount: 1n, currency: 'EUR' },
      ],
    });
    const answer = await correct({ id, reason, postings: [posting(aliceWallet.id, 'debit', '1'), posting(bobWallet.id, 'credit', '1')] });
    expect(answer.status).toBe(409);
  });
});
