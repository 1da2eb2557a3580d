/**
 * The ledger's HTTP API end to end: a Nest app with only LedgerModule and a DataSource on a
 * fresh schema (the wallet's migrations plus the ledger's), called with fetch.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import type { PostgresLedger } from '@pay/ledger-store';
import { CreateLedger1764144000000, LEDGER_MIGRATIONS } from '@pay/ledger-store';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { DataSource } from 'typeorm';
import { walletMigrations } from '../database/migrations';
import { LedgerModule } from './ledger.module';
import { LEDGER } from './ledger.tokens';

/** The wallet's migrations with the ledger's, whether or not the wallet lists them yet. */
const migrations = (walletMigrations as unknown[]).includes(CreateLedger1764144000000)
  ? walletMigrations
  : [...(walletMigrations as Array<new () => object>), ...LEDGER_MIGRATIONS];

describe('ledger HTTP API', () => {
  let schema: TestSchema;
  let app: INestApplication;
  let base: string;

  // Response bodies are JSON of many shapes; the tests read them field by field.
  type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json; headers: Headers }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json, headers: response.headers };
  }

  const posting = (accountId: string, direction: 'debit' | 'credit', amount: string, currency = 'EUR') => ({ accountId, direction, amount, currency });

  beforeAll(async () => {
    schema = await createTestSchema('wallet_ledger_http', migrations);
    @Module({ providers: [{ provide: DataSource, useValue: schema.dataSource }], exports: [DataSource] })
    class TestDatabaseModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [{ module: TestDatabaseModule, global: true }, LedgerModule.register({ sweepIntervalMs: 0 })],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;

    for (const account of [
      { id: 'clearing', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' },
      { id: 'alice', ownerType: 'person', ownerId: 'u-alice', currency: 'EUR' },
      { id: 'shop', ownerType: 'merchant', ownerId: 'm-shop', currency: 'EUR', metadata: { name: 'Corner shop' } },
      { id: 'employer', ownerType: 'merchant', ownerId: 'm-employer', currency: 'EUR' },
    ]) {
      expect((await call('POST', '/v1/ledger/accounts', account)).status).toBe(201);
    }
    // The API never debits a system account: the money enters in-process, as the wallet's flows record it.
    await app.get<symbol, PostgresLedger>(LEDGER).record({
      type: 'transfer',
      transactionId: 'seed-1',
      postings: [
        { accountId: 'clearing', direction: 'debit', amount: 10_000n, currency: 'EUR' },
        { accountId: 'employer', direction: 'credit', amount: 10_000n, currency: 'EUR' },
      ],
    });
  });

  afterAll(async () => {
    await app.close();
    await schema.drop();
  });

  describe('accounts', () => {
    it('opens idempotently (200 the second time) and answers a different definition with 409', async () => {
      const again = await call('POST', '/v1/ledger/accounts', { id: 'alice', ownerType: 'person', ownerId: 'u-alice', currency: 'EUR' });
      expect(again).toMatchObject({ status: 200, body: { id: 'alice', normalSide: 'credit', minBalance: '0' } });
      const conflict = await call('POST', '/v1/ledger/accounts', { id: 'alice', ownerType: 'person', ownerId: 'u-alice', currency: 'USD' });
      expect(conflict).toMatchObject({ status: 409, body: { code: 'IDEMPOTENCY_CONFLICT', message: expect.stringContaining('account alice') } });
    });

    it('refuses malformed input with 400 and a reason', async () => {
      const bad = await call('POST', '/v1/ledger/accounts', { id: 'x:y', ownerType: 'bank', ownerId: 'b', currency: 'eur', extra: 1 });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
      expect(bad.body.message).toMatch(/id must be 1-128/);
      expect(bad.body.message).toMatch(/ownerType/);
      expect(bad.body.message).toMatch(/currency must be an ISO-4217 code/);
      expect(bad.body.message).toMatch(/extra should not exist/);
      const overdraft = await call('POST', '/v1/ledger/accounts', { id: 'bob', ownerType: 'person', ownerId: 'u-bob', currency: 'EUR', minBalance: '-100' });
      expect(overdraft).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT', message: expect.stringContaining('never goes below zero') } });
    });

    it('reads an account, and answers an unknown one with 404', async () => {
      expect(await call('GET', '/v1/ledger/accounts/shop')).toMatchObject({ status: 200, body: { id: 'shop', metadata: { name: 'Corner shop' } } });
      expect(await call('GET', '/v1/ledger/accounts/nobody')).toMatchObject({ status: 404, body: { code: 'ACCOUNT_NOT_FOUND' } });
    });
  });

  describe('transactions', () => {
    it('posts a transaction (201), replays it (200, Idempotent-Replayed) and refuses other content under its id (409)', async () => {
      const request = { id: 'fund-1', postings: [posting('employer', 'debit', '10000'), posting('alice', 'credit', '10000')], metadata: { psp: 'stripe' } };
      const first = await call('POST', '/v1/ledger/transactions', request);
      expect(first).toMatchObject({ status: 201, body: { transactionId: 'fund-1', position: '2', kind: 'transfer', replayed: false } });
      expect(first.body.postings).toEqual([
        { accountId: 'employer', direction: 'debit', amount: '10000', currency: 'EUR', layer: 'posted' },
        { accountId: 'alice', direction: 'credit', amount: '10000', currency: 'EUR', layer: 'posted' },
      ]);
      const retry = await call('POST', '/v1/ledger/transactions', request);
      expect(retry).toMatchObject({ status: 200, body: { ...first.body, replayed: true } });
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      const changed = await call('POST', '/v1/ledger/transactions', { ...request, metadata: { psp: 'paypal' } });
      expect(changed).toMatchObject({ status: 409, body: { code: 'IDEMPOTENCY_CONFLICT' } });
    });

    it('never debits a system account (403), in a transfer or a hold; nothing is posted', async () => {
      const before = (await call('GET', '/v1/ledger/accounts/alice/balance')).body;
      const transfer = await call('POST', '/v1/ledger/transactions', {
        id: 'mint',
        postings: [posting('clearing', 'debit', '500'), posting('alice', 'credit', '500')],
      });
      expect(transfer).toMatchObject({ status: 403, body: { code: 'SYSTEM_ACCOUNT_DEBIT_REFUSED' } });
      const hold = await call('POST', '/v1/ledger/reservations', {
        id: 'mint-hold',
        debitAccountId: 'clearing',
        creditAccountId: 'alice',
        amount: '500',
        currency: 'EUR',
        ttlSeconds: 60,
      });
      expect(hold).toMatchObject({ status: 403, body: { code: 'SYSTEM_ACCOUNT_DEBIT_REFUSED' } });
      expect((await call('GET', '/v1/ledger/accounts/alice/balance')).body).toEqual(before);
      expect(await schema.dataSource.query("SELECT 1 FROM journal_entries WHERE transaction_id IN ('mint', 'mint-hold')")).toEqual([]);
    });

    it('answers a refusal with 422 and the reason code', async () => {
      const refusals: Array<[unknown, string]> = [
        [{ id: 'big', postings: [posting('alice', 'debit', '10001'), posting('shop', 'credit', '10001')] }, 'INSUFFICIENT_FUNDS'],
        [{ id: 'odd', postings: [posting('alice', 'debit', '5'), posting('shop', 'credit', '4')] }, 'UNBALANCED'],
        [{ id: 'usd', postings: [posting('alice', 'debit', '5', 'USD'), posting('shop', 'credit', '5', 'USD')] }, 'CURRENCY_MISMATCH'],
        [{ id: 'ghost', postings: [posting('alice', 'debit', '5'), posting('ghost', 'credit', '5')] }, 'ACCOUNT_NOT_FOUND'],
        [{ id: 'undo-nothing', reverses: 'never-was' }, 'TRANSACTION_NOT_FOUND'],
      ];
      for (const [request, code] of refusals) {
        const answer = await call('POST', '/v1/ledger/transactions', request);
        expect([answer.status, answer.body.code]).toEqual([422, code]);
        expect(String(answer.body.message).length).toBeGreaterThan(10);
      }
    });

    it('refuses amounts that are not strings of minor units', async () => {
      for (const amount of [12.5, 1250, '-5', '0', '1.5', '99999999999999999999']) {
        const answer = await call('POST', '/v1/ledger/transactions', {
          id: 'amt',
          postings: [posting('clearing', 'debit', '1'), { ...posting('alice', 'credit', '1'), amount }],
        });
        expect([amount, answer.status, answer.body.code]).toEqual([amount, 400, 'VALIDATION_FAILED']);
      }
      const noPostings = await call('POST', '/v1/ledger/transactions', { id: 'empty' });
      expect(noPostings.status).toBe(400);
    });

    it('reverses a transaction, fully or in part', async () => {
      await call('POST', '/v1/ledger/transactions', { id: 'buy-1', postings: [posting('alice', 'debit', '3000'), posting('shop', 'credit', '3000')] });
      const part = await call('POST', '/v1/ledger/transactions', {
        id: 'refund-1a',
        reverses: 'buy-1',
        postings: [posting('shop', 'debit', '1000'), posting('alice', 'credit', '1000')],
      });
      expect(part).toMatchObject({ status: 201, body: { kind: 'reversal', reverses: 'buy-1' } });
      const rest = await call('POST', '/v1/ledger/transactions', { id: 'refund-1b', reverses: 'buy-1' });
      expect((rest.body.postings as Array<{ amount: string }>).map((p) => p.amount)).toEqual(['2000', '2000']);
      expect((await call('POST', '/v1/ledger/transactions', { id: 'refund-1c', reverses: 'buy-1' })).body.code).toBe('REVERSAL_EXCEEDS_ORIGINAL');
    });
  });

  describe('reservations', () => {
    it('reserves, posts in part, and refuses a second resolution', async () => {
      const hold = await call('POST', '/v1/ledger/reservations', {
        id: 'hold-1',
        debitAccountId: 'alice',
        creditAccountId: 'shop',
        amount: '2500',
        currency: 'EUR',
        ttlSeconds: 600,
      });
      expect(hold).toMatchObject({ status: 201, body: { kind: 'reserve', reservationId: 'hold-1', expiresAt: expect.any(String) } });
      expect((await call('GET', '/v1/ledger/accounts/alice/balance')).body).toMatchObject({ posted: '10000', pendingOutgoing: '2500', available: '7500' });

      const post = await call('POST', '/v1/ledger/reservations/hold-1/post', { amount: '1800' });
      expect(post).toMatchObject({ status: 201, body: { kind: 'post_pending', transactionId: 'hold-1:post' } });
      expect((await call('POST', '/v1/ledger/reservations/hold-1/post', { amount: '1800' })).status).toBe(200);
      expect(await call('POST', '/v1/ledger/reservations/hold-1/post', { amount: '1' })).toMatchObject({ status: 409, body: { code: 'IDEMPOTENCY_CONFLICT' } });
      expect(await call('POST', '/v1/ledger/reservations/hold-1/void')).toMatchObject({ status: 422, body: { code: 'RESERVATION_NOT_PENDING' } });
      expect((await call('GET', '/v1/ledger/accounts/alice/balance')).body).toMatchObject({ posted: '8200', pendingOutgoing: '0', available: '8200' });
    });

    it('voids; refuses more than reserved; answers an unknown reservation with 404', async () => {
      const expiresAt = new Date(Date.now() + 60_000).toISOString();
      await call('POST', '/v1/ledger/reservations', {
        id: 'hold-2',
        debitAccountId: 'alice',
        creditAccountId: 'shop',
        amount: '100',
        currency: 'EUR',
        expiresAt,
      });
      expect(await call('POST', '/v1/ledger/reservations/hold-2/post', { amount: '101' })).toMatchObject({
        status: 422,
        body: { code: 'AMOUNT_EXCEEDS_RESERVATION' },
      });
      expect(await call('POST', '/v1/ledger/reservations/hold-2/void', {})).toMatchObject({ status: 201, body: { kind: 'void_pending' } });
      expect(await call('POST', '/v1/ledger/reservations/missing/void')).toMatchObject({ status: 404, body: { code: 'RESERVATION_NOT_FOUND' } });
      const both = await call('POST', '/v1/ledger/reservations', {
        id: 'hold-3',
        debitAccountId: 'alice',
        creditAccountId: 'shop',
        amount: '1',
        currency: 'EUR',
        expiresAt,
        ttlSeconds: 5,
      });
      expect(both).toMatchObject({ status: 400, body: { message: 'give exactly one of expiresAt and ttlSeconds' } });
      const past = await call('POST', '/v1/ledger/reservations', {
        id: 'hold-4',
        debitAccountId: 'alice',
        creditAccountId: 'shop',
        amount: '1',
        currency: 'EUR',
        expiresAt: '2020-01-01T00:00:00Z',
      });
      expect(past).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT', message: expect.stringContaining('expiresAt must be in the future') } });
    });
  });

  describe('balances and statements', () => {
    it('answers the balance now, as of a position and as of a time', async () => {
      const now = await call('GET', '/v1/ledger/accounts/alice/balance');
      expect(now.body).toMatchObject({ accountId: 'alice', currency: 'EUR', normalSide: 'credit', posted: '8200' });
      expect((await call('GET', '/v1/ledger/accounts/alice/balance?asOfPosition=2')).body).toMatchObject({ posted: '10000', asOfPosition: '2' });
      expect((await call('GET', '/v1/ledger/accounts/alice/balance?asOf=2000-01-01T00:00:00Z')).body).toMatchObject({ posted: '0', asOfPosition: '0' });
      expect((await call('GET', `/v1/ledger/accounts/alice/balance?asOf=${new Date(Date.now() + 1000).toISOString()}`)).body).toEqual(now.body);
      expect((await call('GET', '/v1/ledger/accounts/alice/balance?asOfPosition=1&asOf=2000-01-01T00:00:00Z')).status).toBe(400);
      expect((await call('GET', '/v1/ledger/accounts/alice/balance?asOfPosition=-1')).status).toBe(400);
      expect((await call('GET', '/v1/ledger/accounts/alice/balance?asOfPosition=999999')).body).toMatchObject({ code: 'INVALID_INPUT' });
      expect((await call('GET', '/v1/ledger/accounts/nobody/balance')).status).toBe(404);
    });

    it('pages the statement with a cursor; the running balance ends at the balance', async () => {
      const lines: Array<{ transactionId: string; balanceAfter: { posted: string } }> = [];
      let cursor = '';
      do {
        const page = await call('GET', `/v1/ledger/accounts/alice/statement?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        lines.push(...page.body.lines);
        cursor = page.body.nextCursor ?? '';
      } while (cursor);
      expect(lines.map((l) => l.transactionId)).toEqual(['fund-1', 'buy-1', 'refund-1a', 'refund-1b', 'hold-1', 'hold-1:post', 'hold-2', 'hold-2:void']);
      expect(lines[lines.length - 1]?.balanceAfter.posted).toBe('8200');
      expect((await call('GET', '/v1/ledger/accounts/alice/statement?limit=0')).status).toBe(400);
      expect((await call('GET', '/v1/ledger/accounts/alice/statement?cursor=zzz')).body).toMatchObject({ code: 'INVALID_INPUT' });
    });
  });

  it('describes every route in the OpenAPI document', () => {
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('wallet').build());
    expect(Object.keys(document.paths).sort()).toEqual([
      '/v1/ledger/accounts',
      '/v1/ledger/accounts/{id}',
      '/v1/ledger/accounts/{id}/balance',
      '/v1/ledger/accounts/{id}/statement',
      '/v1/ledger/corrections',
      '/v1/ledger/reservations',
      '/v1/ledger/reservations/{id}/post',
      '/v1/ledger/reservations/{id}/void',
      '/v1/ledger/transactions',
    ]);
    expect(document.components?.schemas).toHaveProperty('PostTransactionRequest');
  });
});
