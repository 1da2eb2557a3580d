/**
 * The history service end to end: events published on Kafka are projected exactly once (also
 * when each comes twice and out of order across partitions), and the query API answers people,
 * apps, analysts and operators — filters, stable cursor pages, aggregates, CSV, roles, freshness.
 */
import 'reflect-metadata';
import type { EventEnvelope } from '@pay/contracts';
import { sqlOfPool } from '@pay/platform';
import type { ConsumerStats } from '@pay/messaging';
import { waitFor } from '@pay/testing';
import type { Clock } from '../src/freshness/clock';
import { CLOCK } from '../src/freshness/clock';
import { HISTORY_PROJECTION } from '../src/history.consumers';
import { readModelChecksums } from '../src/rebuild-read-model/rebuild-read-model';
import type { HistoryEntry } from '../src/project-events/history-entries';
import type { Caller, HistoryUnderTest } from './history-test-kit';
import { deleteHistoryTopics, publish, startHistory, waitUntilApplied } from './history-test-kit';
import { generateWorkload, prng, shuffle } from './history-workload';
import { projectInMemory } from './in-memory-projection';

interface EntryJson {
  id: string;
  kind: string;
  status: string;
  direction?: string;
  counterparty?: { type: string; id: string };
  payer: { id: string };
  paymentMethod: { id: string | null };
  payee: { type: string; id: string };
  app: string | null;
  amount: { amount: string; currency: string };
  netAmount: { amount: string; currency: string };
  occurredAt: string;
}
interface PageJson {
  entries: EntryJson[];
  nextCursor: string | null;
}

const workload = generateWorkload({ seed: 21, persons: 40, merchants: 6, nonProfits: 2, payments: 500 });
// What the service should hold; the pagination test adds events, and recomputes it.
let model = projectInMemory(workload.events);
let entries = [...model.entries.values()];

const involves = (personId: string) => (e: HistoryEntry) => e.payerId === personId || (e.counterpartyType === 'person' && e.counterpartyId === personId);
const busiest = [...workload.persons].sort((a, b) => entries.filter(involves(b)).length - entries.filter(involves(a)).length)[0];

async function allPages(caller: Caller, path: string, limit = 500): Promise<EntryJson[]> {
  const out: EntryJson[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const response: Awaited<ReturnType<Caller['get']>> & { body: PageJson } = await caller.get<PageJson>(
      `${path}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(response.status).toBe(200);
    out.push(...response.body.entries);
    cursor = response.body.nextCursor;
  } while (cursor);
  return out;
}

const ids = (list: Array<{ id?: string; entryId?: string }>): string[] => list.map((e) => e.id ?? e.entryId!).sort();

describe('history service', () => {
  let history: HistoryUnderTest;
  let twice: HistoryUnderTest;

  beforeAll(async () => {
    [history, twice] = await Promise.all([startHistory(), startHistory()]);
    // The same events to a second service: every event twice, in a random order, each copy
    // under a random key (so a payment's events spread over partitions and overtake each other).
    const random = prng(5);
    const doubled = shuffle([...workload.events, ...workload.events], random);
    await Promise.all([publish(history.topics, workload.events), publish(twice.topics, doubled, () => `k-${Math.floor(random() * 1e9)}`)]);
    await Promise.all([waitUntilApplied(history, workload.events.length), waitUntilApplied(twice, workload.events.length)]);
  }, 180_000);

  afterAll(async () => {
    for (const service of [history, twice]) {
      if (!service) continue;
      await service.stop();
      await deleteHistoryTopics(service.topics);
    }
  });

  it('gives the same read model when every event is delivered twice and out of order across partitions', async () => {
    await waitFor(
      async () => (await (await twice.as('ops', 'operator')).get<{ lag: { eventsBehind: number } }>('/v1/history/read-model')).body.lag?.eventsBehind,
      (behind) => behind === 0,
      { timeoutMs: 90_000 },
    );
    // Every copy was delivered: one applied, the other found in the inbox.
    const stats = (): ConsumerStats => twice.service.runtime.inbox.stats(HISTORY_PROJECTION);
    await waitFor(
      () => stats().applied + stats().duplicates,
      (delivered) => delivered === 2 * workload.events.length,
      { timeoutMs: 90_000 },
    );
    expect(stats()).toMatchObject({ applied: workload.events.length, duplicates: workload.events.length, deadLettered: 0 });
    expect(await readModelChecksums(sqlOfPool(twice.service.runtime.dataSource), 1)).toEqual(
      await readModelChecksums(sqlOfPool(history.service.runtime.dataSource), 1),
    );
    const [{ n }] = await twice.service.runtime.dataSource.query<Array<{ n: string }>>('SELECT count(*)::text AS n FROM inbox');
    expect(Number(n)).toBe(workload.events.length);
  });

  it('shows a person their whole history across apps, newest first, from their side', async () => {
    const person = await history.as(busiest, 'person');
    const seen = await allPages(person, `/v1/history/persons/${busiest}/entries`, 7);
    const expected = entries.filter(involves(busiest));
    expect(ids(seen)).toEqual(ids(expected));
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    for (let i = 1; i < seen.length; i += 1) expect(seen[i - 1].occurredAt >= seen[i].occurredAt).toBe(true);
    expect(new Set(seen.map((e) => e.app)).size).toBeGreaterThan(1);
    for (const entry of seen) {
      const paid = entry.payer.id === busiest;
      const reversing = entry.kind === 'refund' || entry.kind === 'chargeback';
      expect(entry.direction).toBe(paid !== reversing ? 'out' : 'in');
      expect(entry.counterparty).toEqual(paid ? entry.payee : { type: 'person', id: entry.payer.id });
    }
    const oldestFirst = await allPages(person, `/v1/history/persons/${busiest}/entries?order=asc`, 11);
    expect(oldestFirst.map((e) => e.id)).toEqual([...seen].reverse().map((e) => e.id));
  });

  it('filters by app, kind, status, counterparty, amount range, currency and time', async () => {
    const analyst = await history.as('a-1', 'analyst');
    const person = await history.as(busiest, 'person');
    const mine = entries.filter(involves(busiest));
    const other = (e: HistoryEntry): string => (e.payerId === busiest ? e.counterpartyId : e.payerId);
    const someCounterparty = other(mine[0]);
    const times = mine.map((e) => e.occurredAt).sort();
    const [from, to] = [times[Math.floor(times.length / 4)], times[Math.floor((3 * times.length) / 4)]];
    const cases: Array<[string, (e: HistoryEntry) => boolean]> = [
      ['app=instagram,whatsapp', (e) => e.app === 'instagram' || e.app === 'whatsapp'],
      ['kind=purchase&kind=refund', (e) => e.kind === 'purchase' || e.kind === 'refund'],
      ['status=captured,refunded', (e) => e.status === 'captured' || e.status === 'refunded'],
      [`counterparty=${someCounterparty}`, (e) => other(e) === someCounterparty],
      ['minAmount=5000&maxAmount=20000', (e) => BigInt(e.amount) >= 5000n && BigInt(e.amount) <= 20000n],
      [`currency=${mine[0].currency}`, (e) => e.currency === mine[0].currency],
      [`from=${from}&to=${to}`, (e) => e.occurredAt >= from && e.occurredAt < to],
      ['kind=transfer&status=captured&app=facebook', (e) => e.kind === 'transfer' && e.status === 'captured' && e.app === 'facebook'],
    ];
    for (const [query, keep] of cases) {
      const got = await allPages(person, `/v1/history/persons/${busiest}/entries?${query}`, 50);
      expect({ query, ids: ids(got) }).toEqual({ query, ids: ids(mine.filter(keep)) });
    }
    const merchant = workload.merchants[0];
    const merchantEntries = await allPages(analyst, `/v1/history/merchants/${merchant}/entries?kind=purchase,refund,chargeback`, 20);
    expect(ids(merchantEntries)).toEqual(ids(entries.filter((e) => e.counterpartyType === 'merchant' && e.counterpartyId === merchant)));
    const nonProfit = workload.nonProfits[0];
    expect(ids(await allPages(analyst, `/v1/history/non-profits/${nonProfit}/entries`))).toEqual(
      ids(entries.filter((e) => e.counterpartyType === 'non-profit' && e.counterpartyId === nonProfit)),
    );
    expect(ids(await allPages(analyst, '/v1/history/entries?kind=chargeback'))).toEqual(ids(entries.filter((e) => e.kind === 'chargeback')));
  });

  it('keeps cursor pages stable while new events arrive', async () => {
    const person = await history.as(busiest, 'person');
    const path = `/v1/history/persons/${busiest}/entries`;
    const first = await person.get<PageJson>(`${path}?limit=5`);
    const snapshot = entries.filter(involves(busiest)).length;

    // New payments of the person (newer than everything), and a refund of an older one.
    const now = Date.now();
    const more = generateWorkload({
      seed: 77,
      persons: 40,
      merchants: 6,
      nonProfits: 2,
      payments: 12,
      start: new Date(now),
      ledger: false,
      paymentPrefix: 'late',
      payerIds: [busiest],
    }).events.filter((e) => e.type.startsWith('payments.'));
    const captured = [...model.facts.values()].find(
      (f) => f.initiated?.payerId === busiest && f.captured && !f.refunds && !f.disputes && f.holder?.provider === 'stripe' && f.initiated.kind === 'purchase',
    )!;
    const last = Math.max(...workload.events.filter((e) => e.subject === captured.paymentId).map((e) => e.sequence));
    const base = workload.events.find((e) => e.subject === captured.paymentId)!;
    const parties = {
      kind: 'purchase',
      payerId: busiest,
      counterparty: { type: captured.initiated!.counterpartyType, id: captured.initiated!.counterpartyId },
      provider: 'stripe',
      reference: captured.holder!.reference,
    };
    const money = { amount: captured.captured!.amount, currency: captured.initiated!.currency };
    const refund = (name: string, seq: number, data: object): EventEnvelope => ({
      ...base,
      id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
      type: `payments.payment.${name}`,
      sequence: seq,
      occurredAt: new Date(now + seq).toISOString(),
      data: { paymentId: captured.paymentId, ...data },
    });
    const refundEvents = [
      refund('refund-requested', last + 1, { refundId: 're-late', amount: money, reason: 'requested_by_customer' }),
      refund('refunded', last + 2, { ...parties, amount: money, refundId: 're-late', refundedTotal: money, full: true }),
    ];
    const before = entries;
    await publish(history.topics, [...more, ...refundEvents]);
    await waitUntilApplied(history, workload.events.length + more.length + refundEvents.length);
    model = projectInMemory([...workload.events, ...more, ...refundEvents]);
    entries = [...model.entries.values()];

    const rest = [...first.body.entries];
    let cursor = first.body.nextCursor;
    while (cursor) {
      const page = await person.get<PageJson>(`${path}?limit=5&cursor=${encodeURIComponent(cursor)}`);
      rest.push(...page.body.entries);
      cursor = page.body.nextCursor;
    }
    // Exactly the entries that existed when paging began: nothing twice, nothing skipped, none of the new ones.
    expect(rest.length).toBe(snapshot);
    expect(ids(rest)).toEqual(ids(before.filter(involves(busiest))));
    // The refunded payment kept its place and shows its new status.
    expect(rest.find((e) => e.id === `payment:${captured.paymentId}`)?.status).toBe('refunded');
    // A fresh first page starts with the new entries.
    const fresh = await person.get<PageJson>(`${path}?limit=5`);
    expect(fresh.body.entries[0].occurredAt > first.body.entries[0].occurredAt).toBe(true);
  });

  it('keeps people to their own history; analysts reach no person by id', async () => {
    const [me, other] = [workload.persons[0], workload.persons[1]];
    const person = await history.as(me, 'person');
    expect((await person.get(`/v1/history/persons/${me}/entries`)).status).toBe(200);
    const notMine = await person.get(`/v1/history/persons/${other}/entries`);
    expect(notMine.status).toBe(404);
    expect(notMine.body).toEqual({ code: 'NOT_FOUND', message: 'nothing was found at this address' });
    expect((await person.get(`/v1/history/persons/${other}/entries/export`)).status).toBe(404);
    for (const path of [`/v1/history/merchants/${workload.merchants[0]}/entries`, '/v1/history/entries', '/v1/history/aggregates', '/v1/history/read-model']) {
      expect({ path, status: (await person.get(path)).status }).toEqual({ path, status: 403 });
    }
    expect((await history.anonymous().get(`/v1/history/persons/${me}/entries`)).status).toBe(401);
    expect((await (await history.as('ops', 'operator')).get(`/v1/history/persons/${me}/entries`)).status).toBe(403);

    const withContact = model.wallets.get(me)!.hasEmail === null ? workload.persons.find((p) => model.wallets.get(p)!.hasEmail !== null)! : me;
    const own = await (
      await history.as(withContact, 'person')
    ).get<{ contact?: unknown; paymentMethods: unknown[]; country: string }>(`/v1/history/persons/${withContact}/profile`);
    expect(own.status).toBe(200);
    expect(own.body.contact).toEqual({ hasEmail: model.wallets.get(withContact)!.hasEmail, hasPhone: model.wallets.get(withContact)!.hasPhone });
    expect(own.body.paymentMethods).toHaveLength(1);
    // Analysts know no person by id: the person routes are closed to them (another's profile, methods and all).
    const analyst = await history.as('a-1', 'analyst');
    for (const path of ['profile', 'entries', 'entries/export', 'summary']) {
      expect({ path, status: (await analyst.get(`/v1/history/persons/${withContact}/${path}`)).status }).toEqual({ path, status: 403 });
    }
    expect(JSON.stringify((await analyst.get('/v1/history/entries?limit=500')).body)).not.toMatch(/hasEmail|hasPhone|contact/);
  });

  it('shows analysts people only as pseudonyms, stable per organisation, in pages and CSV; no person id, no method id', async () => {
    const pages = async (caller: Caller): Promise<EntryJson[]> => allPages(caller, '/v1/history/entries', 500);
    const [first, again, other] = [
      await pages(await history.as('a-1', 'analyst', { org: 'org-research' })),
      await pages(await history.as('a-2', 'analyst', { org: 'org-research' })),
      await pages(await history.as('a-3', 'analyst', { org: 'org-finance' })),
    ];
    expect(ids(first)).toEqual(ids(entries));
    const personIds = new Set(workload.persons);
    const pseudonymOf = new Map<string, string>();
    first.forEach((entry, i) => {
      const real = entries.find((e) => e.entryId === entry.id)!;
      expect(entry.payer.id).toMatch(/^psn_[A-Za-z0-9_-]{22}$/);
      expect(personIds.has(entry.payer.id)).toBe(false);
      expect(entry.paymentMethod.id).toBeNull();
      // One person, one pseudonym in an organisation (analysts can still count people)…
      expect(pseudonymOf.get(real.payerId) ?? entry.payer.id).toBe(entry.payer.id);
      pseudonymOf.set(real.payerId, entry.payer.id);
      if (real.counterpartyType === 'person') expect(entry.payee.id).toBe(pseudonymOf.get(real.counterpartyId) ?? entry.payee.id);
      else expect(entry.payee.id).toBe(real.counterpartyId);
      expect(again[i].payer.id).toBe(entry.payer.id);
      // …and another in another organisation, so two organisations cannot join what they saw.
      expect(other[i].payer.id).not.toBe(entry.payer.id);
    });
    expect(new Set(pseudonymOf.values()).size).toBe(pseudonymOf.size);
    // The CSV: no person id anywhere in it.
    const csv = await (await history.as('a-1', 'analyst', { org: 'org-research' })).get('/v1/history/entries/export');
    expect(csv.status).toBe(200);
    for (const person of workload.persons) expect(csv.text).not.toContain(person);
    expect(csv.text).toContain(pseudonymOf.get(busiest)!);
    // Filtering the list by a person's real id finds nothing (it would tie the id to its pseudonym).
    const transferTo = entries.find((e) => e.counterpartyType === 'person')!;
    const analyst = await history.as('a-1', 'analyst', { org: 'org-research' });
    expect((await analyst.get<PageJson>(`/v1/history/entries?counterparty=${transferTo.counterpartyId}`)).body.entries).toEqual([]);
    // A merchant's history as analysts see it: pseudonymous payers too.
    const merchantPage = await analyst.get<PageJson>(`/v1/history/merchants/${workload.merchants[0]}/entries?limit=100`);
    expect(merchantPage.body.entries.length).toBeGreaterThan(0);
    for (const entry of merchantPage.body.entries) expect(entry.payer.id).toMatch(/^psn_/);
  });

  it("lets a merchant's backend read that merchant's history only (history:read); another merchant's answers 404", async () => {
    const [merchant, otherMerchant] = workload.merchants;
    const backend = await history.as('instagram-backend', 'service', { merchants: [merchant], scope: 'history:read' });
    const own = await allPages(backend, `/v1/history/merchants/${merchant}/entries`, 100);
    expect(ids(own)).toEqual(ids(entries.filter((e) => e.counterpartyType === 'merchant' && e.counterpartyId === merchant)));
    // The backend acts for persons: it sees their real ids.
    expect(own.some((e) => workload.persons.includes(e.payer.id))).toBe(true);
    for (const path of ['entries', 'entries/export', 'summary']) {
      const answer = await backend.get(`/v1/history/merchants/${otherMerchant}/${path}`);
      expect({ path, status: answer.status, body: answer.body }).toEqual({
        path,
        status: 404,
        body: { code: 'NOT_FOUND', message: 'nothing was found at this address' },
      });
    }
    expect((await backend.get(`/v1/history/non-profits/${workload.nonProfits[0]}/entries`)).status).toBe(404);
    // Without the scope, not even its own merchant's.
    const unscoped = await history.as('instagram-backend', 'service', { merchants: [merchant] });
    expect((await unscoped.get(`/v1/history/merchants/${merchant}/entries`)).status).toBe(403);
  });

  it("refuses an app's backend's own token every person's history (403, nothing of the person), whoever it names", async () => {
    const app = entries.find((e) => e.app !== null)!.app!;
    const own = await history.as(`${app}-backend`, 'service', { app, merchants: workload.merchants, scope: 'history:read payments:read' });
    for (const path of ['entries', 'entries/export', 'summary', 'profile']) {
      const answer = await own.get(`/v1/history/persons/${busiest}/${path}`);
      expect({ path, status: answer.status, code: (answer.body as { code?: string }).code }).toEqual({ path, status: 403, code: 'FORBIDDEN' });
      expect(answer.text).not.toContain(busiest);
    }
  });

  it("lets an app's backend read a person's history with the person's token it was issued, in its own app only, never what they did in the other apps", async () => {
    const theirs = entries.filter(involves(busiest));
    const app = theirs.find((e) => e.app !== null)!.app!;
    const other = theirs.find((e) => e.app !== null && e.app !== app)!.app!;
    const inApp = theirs.filter((e) => e.app === app);
    expect(inApp.length).toBeGreaterThan(0);
    expect(inApp.length).toBeLessThan(theirs.length);
    // RFC 8693 token exchange: the person, with the app and the backend acting for them.
    const backend = await history.as(busiest, 'person', { app, act: { sub: `${app}-backend` } });
    // …and it opens that person alone: another person's id is the 404 of nobody.
    const someoneElse = workload.persons.find((id) => id !== busiest)!;
    expect((await backend.get(`/v1/history/persons/${someoneElse}/entries`)).status).toBe(404);
    // The person signed in through the app's own client (no one acting): the same app only.
    const signedInThroughApp = await history.as(busiest, 'person', { app });
    expect(ids(await allPages(signedInThroughApp, `/v1/history/persons/${busiest}/entries`, 100))).toEqual(ids(inApp));
    const seen = await allPages(backend, `/v1/history/persons/${busiest}/entries`, 100);
    expect(ids(seen)).toEqual(ids(inApp));
    expect(ids(await allPages(backend, `/v1/history/persons/${busiest}/entries?app=${app},${other}`, 100))).toEqual(ids(inApp));
    const csv = await backend.get(`/v1/history/persons/${busiest}/entries/export`);
    expect(csv.text.split('\r\n').filter((line) => line.length > 0)).toHaveLength(inApp.length + 1);
    const person = await history.as(busiest, 'person');
    expect((await backend.get(`/v1/history/persons/${busiest}/summary`)).body).toEqual(
      (await person.get(`/v1/history/persons/${busiest}/summary?app=${app}`)).body,
    );
    for (const path of ['entries', 'entries/export', 'summary']) {
      const answer = await backend.get(`/v1/history/persons/${busiest}/${path}?app=${other}`);
      expect({ path, status: answer.status, code: (answer.body as { code?: string }).code }).toEqual({ path, status: 403, code: 'FORBIDDEN' });
    }
  });

  it('refuses bad queries with the reason', async () => {
    const analyst = await history.as('a-1', 'analyst');
    const bad = async (query: string): Promise<string> => {
      const response = await analyst.get<{ code: string; details?: string[]; message: string }>(`/v1/history/entries?${query}`);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
      return [response.body.code, ...(response.body.details ?? [response.body.message])].join(' ');
    };
    expect(await bad('app=myspace')).toMatch(/app must be one or more \(comma-separated\) of facebook, instagram, messenger, whatsapp/);
    expect(await bad('minAmount=12.50')).toMatch(/minAmount must be a whole number of minor units/);
    expect(await bad('minAmount=500&maxAmount=100')).toMatch(/minAmount: must not be greater than maxAmount/);
    expect(await bad('from=yesterday')).toMatch(/from must be an ISO-8601 date-time/);
    expect(await bad('limit=0')).toMatch(/limit must be a whole number from 1 to 500/);
    expect(await bad('cursor=bm9wZQ')).toMatch(/INVALID_CURSOR cursor is not one this API issued/);
    expect(await bad('sort=amount')).toMatch(/property sort should not exist/);
    const page = await analyst.get<PageJson>('/v1/history/entries?limit=1');
    expect(await bad(`order=asc&cursor=${page.body.nextCursor}`)).toMatch(/cursor was issued for order=desc/);
  });

  it('aggregates count and sums by day, week and month, by app, country, currency, kind and method type', async () => {
    const analyst = await history.as('a-1', 'analyst');
    interface AggregatesJson {
      basis: string;
      rows: Array<Record<string, string | number | null>>;
    }
    const monday = (iso: string): string => {
      const day = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
      day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
      return day.toISOString().slice(0, 10);
    };
    const january = entries.filter((e) => e.occurredAt < '2026-02-01');
    const expected = new Map<string, { count: number; sum: bigint; net: bigint }>();
    for (const e of january) {
      const key = [monday(e.occurredAt), e.app, e.kind, e.methodType, e.currency].join('|');
      const cell = expected.get(key) ?? { count: 0, sum: 0n, net: 0n };
      expected.set(key, { count: cell.count + 1, sum: cell.sum + BigInt(e.amount), net: cell.net + BigInt(e.netAmount) });
    }
    const asMap = (body: AggregatesJson): Map<string, { count: number; sum: bigint; net: bigint }> =>
      new Map(
        body.rows.map((r) => [
          [r.period, r.app, r.kind, r.methodType, r.currency].join('|'),
          { count: Number(r.count), sum: BigInt(r.sum as string), net: BigInt(r.netSum as string) },
        ]),
      );

    // Everything before the late events of the pagination test (they are in the future).
    const until = '&to=2026-02-01T00:00:00Z';
    const fromTotals = await analyst.get<AggregatesJson>(`/v1/history/aggregates?interval=week&groupBy=app,kind,methodType${until}`);
    expect(fromTotals.status).toBe(200);
    expect(fromTotals.body.basis).toBe('daily_totals');
    expect(asMap(fromTotals.body)).toEqual(expected);
    const fromEntries = await analyst.get<AggregatesJson>(`/v1/history/aggregates?interval=week&groupBy=app,kind,methodType&minAmount=0${until}`);
    expect(fromEntries.body.basis).toBe('entries');
    expect(asMap(fromEntries.body)).toEqual(expected);

    const monthly = await analyst.get<AggregatesJson>(`/v1/history/aggregates?interval=month&groupBy=country&status=captured${until}`);
    const capturedCount = january.filter((e) => e.status === 'captured').length;
    expect(monthly.body.rows.reduce((n, r) => n + Number(r.count), 0)).toBe(capturedCount);
    expect(monthly.body.rows.every((r) => typeof r.country === 'string' && r.period === '2026-01-01')).toBe(true);

    const csv = await analyst.get(`/v1/history/aggregates/export?interval=day&groupBy=kind${until}`);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe('period,kind,currency,count,sum,net_sum');
  });

  it('exports any filtered query as CSV, the same rows as the pages', async () => {
    const person = await history.as(busiest, 'person');
    const query = 'kind=purchase,transfer,refund&to=2026-02-01T00:00:00Z';
    const pages = await allPages(person, `/v1/history/persons/${busiest}/entries?${query}`);
    const csv = await person.get(`/v1/history/persons/${busiest}/entries/export?${query}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="history-${busiest}.csv"`);
    const lines = csv.text.split('\r\n').filter((l) => l.length > 0);
    expect(lines[0]).toBe(
      'id,payment_id,occurred_at,kind,status,direction,payer_id,payee_type,payee_id,app,country,currency,amount,net_amount,payment_method_type,ledger_transaction_id,updated_at,failure_code',
    );
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(pages.map((e) => e.id));
    const refundLine = lines.find((l) => l.startsWith('refund:') && l.includes(',succeeded,'));
    if (refundLine) expect(refundLine.split(',')[13]).toMatch(/^-\d+$/);
  });

  it('reports its freshness in /health/ready and as a metric', async () => {
    type Ready = { status: string; details: { projection: { status: string; eventsBehind: number; secondsBehind: number; topics: Array<{ topic: string }> } } };
    // Offsets are committed at the end of each fetched batch: wait for the last commit.
    const ready = await waitFor(
      () => history.anonymous().get<Ready>('/health/ready'),
      (r) => r.body.details?.projection?.eventsBehind === 0,
      { timeoutMs: 90_000 },
    );
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.details.projection).toMatchObject({ status: 'up', eventsBehind: 0, secondsBehind: 0 });
    expect(ready.body.details.projection.topics.map((t) => t.topic)).toEqual(Object.values(history.topics));
    const metrics = await history.anonymous().get('/metrics');
    expect(metrics.text).toMatch(new RegExp(`history_projection_lag_events\\{[^}]*topic="${history.topics.payments}"[^}]*\\} 0`));
    expect(metrics.text).toMatch(/history_projection_lag_seconds/);
  });

  it('counts the events behind, and with HISTORY_READY_MAX_LAG_SECONDS stops being ready when too far behind', async () => {
    // A replica that does not consume, on topics full of events: everything is behind.
    const idle = await startHistory({ topics: history.topics, env: { HISTORY_CONSUMER_ENABLED: 'false', HISTORY_READY_MAX_LAG_SECONDS: '1' } });
    try {
      type Ready = { status: string; details: { projection: { status: string; eventsBehind: number; secondsBehind: number; message?: string } } };
      const [{ n }] = await history.service.runtime.dataSource.query<Array<{ n: string }>>('SELECT count(*)::text AS n FROM raw_events');
      const first = await idle.anonymous().get<Ready>('/health/ready');
      expect(first.status).toBe(200);
      expect(first.body.details.projection).toMatchObject({ status: 'up', eventsBehind: Number(n) });
      // The replica's clock moves 2.2 s on instead of the test waiting for them.
      const clock = idle.service.app.get<symbol, Clock>(CLOCK);
      const realNow = clock.now.bind(clock);
      jest.spyOn(clock, 'now').mockImplementation(() => realNow() + 2_200);
      const later = await idle.anonymous().get<Ready>('/health/ready');
      expect(later.status).toBe(503);
      expect(later.body.status).toBe('error');
      expect(later.body.details.projection).toMatchObject({ status: 'down', eventsBehind: Number(n) });
      expect(later.body.details.projection.secondsBehind).toBeGreaterThan(1);
      expect(later.body.details.projection.message).toMatch(/HISTORY_READY_MAX_LAG_SECONDS=1/);
      expect((await idle.anonymous().get('/metrics')).text).toMatch(
        new RegExp(`history_projection_lag_events\\{[^}]*topic="${history.topics.payments}"[^}]*\\} [1-9]`),
      );
    } finally {
      await idle.stop();
    }
  });

  it('documents the API in OpenAPI', async () => {
    const document = (await history.anonymous().get<{ paths: Record<string, unknown> }>('/docs/json')).body;
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/history/persons/{personId}/entries',
        '/v1/history/persons/{personId}/entries/export',
        '/v1/history/persons/{personId}/summary',
        '/v1/history/merchants/{id}/entries',
        '/v1/history/non-profits/{id}/entries',
        '/v1/history/entries',
        '/v1/history/aggregates',
        '/v1/history/read-model',
      ]),
    );
  });
});
