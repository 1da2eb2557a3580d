import type { TestIssuer } from '@pay/auth/testing';
import { createTestIssuer } from '@pay/auth/testing';
import { canonicalJson, pseudonymize } from '@pay/ad-signals-domain';
import type { AdSignalAggregatePublished, EventEnvelope } from '@pay/contracts';
import { deadLetterTopicOf, parseEvent } from '@pay/contracts';
import { scrubText } from '@pay/observability';
import { deleteTestTopics, waitFor } from '@pay/testing';
import type { AggregationUnderTest, InputTopics, KafkaRecord } from './ad-signals-test-kit';
import { createInputTopics, InputEvents, InputPublisher, NOISE_KEY, PSEUDONYM_KEY, startAggregation, watchTopic } from './ad-signals-test-kit';

type Aggregate = EventEnvelope<AdSignalAggregatePublished>;

const K = 5;
const H10 = '2026-03-02T10:00:00.000Z';
const H11 = '2026-03-02T11:00:00.000Z';
const D0 = '2026-03-02T00:00:00.000Z';
const D1 = '2026-03-03T00:00:00.000Z';
const D1H09 = '2026-03-03T09:00:00.000Z';
const CONSENTED_AT = '2026-02-28T00:00:00.000Z';
const WITHDRAWN_AT = '2026-03-02T11:00:00.000Z';

const ELECTRONICS = 'shop-electronics';
const BOOKS = 'shop-books';
const TINY = 'shop-tiny';

/** The service's last outbox position: what it has committed to publish. */
const outboxHead = async (service: AggregationUnderTest): Promise<string> =>
  (await service.sql<{ head: string }>('SELECT coalesce(max(position), 0)::text AS head FROM outbox'))[0].head;

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
// Two ids are card-like digit runs: if an id ever leaked, the card scan would find it too.
const INSTAGRAM = ids('ins', 5);
const MESSENGER = ids('msg', 6);
const FACEBOOK = ['4242424242424242', '5555555555554444', 'fb-3', 'fb-4'];
const READERS = ids('reader', 5);
const WITHDRAWER = 'withdrawer-1';
const TINY_BUYERS = ids('tiny', 4);
/** Opened a wallet (consent off by default, opt-in) and never granted; and one with no consent event at all. */
const NEVER_GRANTED = 'opened-never-granted';
const NO_EVENT = 'no-consent-event';
const RETURNERS = ids('ret', 6);
const EVERYONE = [...INSTAGRAM, ...MESSENGER, ...FACEBOOK, ...READERS, WITHDRAWER, ...TINY_BUYERS, ...RETURNERS];

const at = (iso: string, minutes: number): string => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

function aggregates(records: readonly KafkaRecord[]): Aggregate[] {
  return records.map((record) => JSON.parse(record.value) as Aggregate);
}

function cell(
  list: readonly Aggregate[],
  merchantId: string,
  granularity: 'hour' | 'day',
  start: string,
  grouping = 'total',
  value?: string,
): AdSignalAggregatePublished | undefined {
  return list.find(
    (event) =>
      event.data.merchantId === merchantId &&
      event.data.window.granularity === granularity &&
      event.data.window.start === start &&
      event.data.grouping === grouping &&
      (value === undefined || Object.values(event.data.dimensions).includes(value)),
  )?.data;
}

describe('ad-signal aggregation: useful to advertisers, aggregated and anonymous by construction', () => {
  let idp: TestIssuer;
  let topics: InputTopics & { all: string[] };
  let input: InputPublisher;
  let live: AggregationUnderTest;
  let replay: AggregationUnderTest;
  let noisy: AggregationUnderTest;
  const events = new InputEvents();
  const captured = new Map<string, EventEnvelope>();
  const apiResponses: string[] = [];
  let phaseA = 0;

  beforeAll(async () => {
    idp = await createTestIssuer();
    topics = await createInputTopics();
    input = new InputPublisher();

    for (const person of EVERYONE) events.consent(person, CONSENTED_AT, true);
    const buy = (
      personId: string,
      merchantId: string,
      time: string,
      extra: Parameters<InputEvents['purchase']>[0] extends infer O ? Partial<O> : never = {},
    ) => {
      const { captured: event } = events.purchase({ personId, merchantId, at: time, ...extra });
      captured.set(`${personId}@${merchantId}@${time}`, event);
      return event;
    };
    // Hour 10: the electronics shop sells through three apps; 4 facebook buyers are fewer than k.
    INSTAGRAM.forEach((person, i) => buy(person, ELECTRONICS, at(H10, 5 + i), { app: 'instagram' }));
    MESSENGER.forEach((person, i) => buy(person, ELECTRONICS, at(H10, 15 + i), { app: 'messenger' }));
    FACEBOOK.forEach((person, i) => buy(person, ELECTRONICS, at(H10, 25 + i), { app: 'facebook' }));
    // The bookshop: 5 readers and one person who withdraws consent at 11:00.
    [...READERS, WITHDRAWER].forEach((person, i) => buy(person, BOOKS, at(H10, 30 + i)));
    [...READERS, WITHDRAWER].forEach((person, i) => buy(person, BOOKS, at(H11, 10 + i)));
    [...READERS, WITHDRAWER].forEach((person, i) => buy(person, BOOKS, at(D1H09, 10 + i)));
    // A shop with k − 1 buyers.
    TINY_BUYERS.forEach((person, i) => buy(person, TINY, at(H10, 40 + i)));
    // Consent is opt-in: the wallet's opening state (off, source default) and silence both mean no consent.
    events.consent(NEVER_GRANTED, CONSENTED_AT, false, 'default');
    buy(NEVER_GRANTED, TINY, at(H10, 50));
    buy(NO_EVENT, TINY, at(H10, 51));
    // Hour 11 at electronics: refunds and a person buying more than the bound (2).
    RETURNERS.forEach((person, i) => buy(person, ELECTRONICS, at(H11, 5 + i), { app: 'whatsapp', method: 'paypal' }));
    buy(RETURNERS[0], ELECTRONICS, at(H11, 20), { app: 'whatsapp', method: 'paypal' });
    buy(RETURNERS[0], ELECTRONICS, at(H11, 21), { app: 'whatsapp', method: 'paypal' });
    events.refund(captured.get(`${RETURNERS[5]}@${ELECTRONICS}@${at(H11, 10)}`) as EventEnvelope, {
      at: at(H11, 30),
      amount: '2500',
      refundedTotal: '2500',
      full: true,
    });
    events.refund(captured.get(`${RETURNERS[4]}@${ELECTRONICS}@${at(H11, 9)}`) as EventEnvelope, {
      at: at(H11, 40),
      amount: '1000',
      refundedTotal: '1000',
      full: false,
    });

    // The withdrawal arrives after the purchases it affects; the clock event moves the watermark past 3 March.
    const walletFirst = [...events.wallet];
    await input.publish(topics.wallet, walletFirst);
    await input.publish(topics.payments, events.payments);
    const late = [events.consent(WITHDRAWER, WITHDRAWN_AT, false), events.consent('clock-person', '2026-03-04T06:00:00.000Z', true)];
    await input.publish(topics.wallet, late);
    phaseA = events.wallet.length + events.payments.length;

    // The live service, a rebuild from offset zero into a fresh store, and one with differential privacy.
    [live, replay, noisy] = await Promise.all([
      startAggregation(topics, idp),
      startAggregation(topics, idp),
      startAggregation(topics, idp, {
        AD_SIGNALS_DP_ENABLED: 'true',
        AD_SIGNALS_DP_EPSILON_PER_WINDOW: '6',
        AD_SIGNALS_DP_MAX_AMOUNT_MINOR: '5000',
        AD_SIGNALS_DP_ADVERTISER_BUDGET: '15',
      }),
    ]);
    await Promise.all(
      [live, replay, noisy].map(async (instance) => {
        await instance.waitForInput(phaseA);
        await instance.closer.closeDueWindows();
        await instance.waitForOutput();
      }),
    );
  });

  afterAll(async () => {
    await Promise.all([live, replay, noisy].filter(Boolean).map((instance) => instance.stop()));
    await input?.close();
    if (topics) await deleteTestTopics(topics.all);
  });

  it('publishes a cell of k people and never one of k − 1', async () => {
    const published = aggregates(live.output.records);
    expect(cell(published, ELECTRONICS, 'hour', H10)?.measures).toEqual({ purchases: 15, distinctPeople: 15, amounts: [{ currency: 'EUR', amount: '37500' }] });
    expect(cell(published, ELECTRONICS, 'hour', H10, 'app', 'messenger')?.measures.distinctPeople).toBe(6);
    expect(cell(published, ELECTRONICS, 'hour', H10, 'app', 'facebook')).toBeUndefined();
    // Exactly k: published.
    expect(cell(published, BOOKS, 'hour', H11)?.measures.distinctPeople).toBe(K);
    // k − 1 people at the tiny shop: nothing at all, in no window.
    expect(published.filter((event) => event.data.merchantId === TINY)).toEqual([]);
    const tiny = await live.sql<{ status: string; reason: string }>(`SELECT status, reason FROM window_cells WHERE merchant_id = $1`, [TINY]);
    expect(tiny.length).toBeGreaterThan(0);
    expect(tiny.every((row) => row.status === 'suppressed' && row.reason === 'below_k')).toBe(true);
    // Every published cell has at least k distinct people.
    expect(published.every((event) => event.data.measures.distinctPeople >= K)).toBe(true);
  });

  it('defeats the differencing attack: a total minus the other published cells never isolates a hidden cell', async () => {
    const published = aggregates(live.output.records);
    const total = cell(published, ELECTRONICS, 'hour', H10)?.measures.purchases as number;
    const apps = published.filter(
      (event) =>
        event.data.merchantId === ELECTRONICS && event.data.window.start === H10 && event.data.window.granularity === 'hour' && event.data.grouping === 'app',
    );
    expect(apps.map((event) => event.data.dimensions.app)).toEqual(['messenger']);
    const residual = total - apps.reduce((sum, event) => sum + event.data.measures.purchases, 0);
    expect(residual).toBe(INSTAGRAM.length + FACEBOOK.length);
    expect(residual).not.toBe(FACEBOOK.length);

    // The same attack on every total and grouping, and on every day against its hours: what is left
    // over is either nothing or the sum of two or more hidden cells.
    const hidden = await live.sql<{ granularity: string; window_start: Date; merchant_id: string; dimensions_key: string }>(
      `SELECT granularity, window_start, merchant_id, dimensions_key FROM window_cells WHERE status = 'suppressed'`,
    );
    const key = (d: AdSignalAggregatePublished['dimensions']): string =>
      `app=${d.app}|country=${d.country}|merchantCategory=${d.merchantCategory}|paymentMethodType=${d.paymentMethodType}|amountBucket=${d.amountBucket}`;
    const totals = published.filter((event) => event.data.grouping === 'total');
    for (const { data: top } of totals) {
      for (const grouping of ['app', 'country', 'merchantCategory', 'paymentMethodType', 'amountBucket']) {
        const parts = published.filter(
          (e) =>
            e.data.merchantId === top.merchantId &&
            e.data.window.start === top.window.start &&
            e.data.window.granularity === top.window.granularity &&
            e.data.grouping === grouping,
        );
        const left = top.measures.purchases - parts.reduce((sum, e) => sum + e.data.measures.purchases, 0);
        const hiddenParts = hidden.filter(
          (row) =>
            row.granularity === top.window.granularity &&
            row.window_start.toISOString() === top.window.start &&
            row.merchant_id === top.merchantId &&
            row.dimensions_key
              .split('|')
              .filter((part) => !part.endsWith('=*'))
              .map((part) => part.split('=')[0])
              .join('+') === grouping,
        );
        if (left !== 0) expect(hiddenParts.length).toBeGreaterThanOrEqual(2);
        expect(hiddenParts.length).not.toBe(1);
      }
    }
    for (const { data: day } of published.filter((event) => event.data.window.granularity === 'day')) {
      const hours = published.filter(
        (e) =>
          e.data.window.granularity === 'hour' &&
          e.data.merchantId === day.merchantId &&
          e.data.window.start.slice(0, 10) === day.window.start.slice(0, 10) &&
          key(e.data.dimensions) === key(day.dimensions),
      );
      const hiddenHours = hidden.filter(
        (row) =>
          row.granularity === 'hour' &&
          row.merchant_id === day.merchantId &&
          row.window_start.toISOString().slice(0, 10) === day.window.start.slice(0, 10) &&
          row.dimensions_key === key(day.dimensions),
      );
      const left = day.measures.purchases - hours.reduce((sum, e) => sum + e.data.measures.purchases, 0);
      if (left !== 0) expect(hiddenHours.length).toBeGreaterThanOrEqual(2);
      expect(hiddenHours.length).not.toBe(1);
    }
  });

  it('leaves a person out of every window after they withdraw consent, even when the withdrawal arrives late', async () => {
    const published = aggregates(live.output.records);
    expect(cell(published, BOOKS, 'hour', H10)?.measures.distinctPeople).toBe(READERS.length + 1);
    expect(cell(published, BOOKS, 'hour', H11)?.measures).toMatchObject({ purchases: READERS.length, distinctPeople: READERS.length });
    expect(cell(published, BOOKS, 'hour', D1H09)?.measures).toMatchObject({ purchases: READERS.length, distinctPeople: READERS.length });
    expect(cell(published, BOOKS, 'day', D1)?.measures).toMatchObject({ purchases: READERS.length, distinctPeople: READERS.length });
    // The day of the withdrawal began with consent: the 10 o'clock purchase counts, the 11 o'clock one does not.
    expect(cell(published, BOOKS, 'day', D0)?.measures).toMatchObject({ purchases: 2 * READERS.length + 1, distinctPeople: READERS.length + 1 });
    const decisions = await live.sql<{ occurred_at: Date; status: string }>(
      'SELECT occurred_at, status FROM purchases WHERE person_key = $1 ORDER BY occurred_at',
      [pseudonymize(PSEUDONYM_KEY, 'person', WITHDRAWER)],
    );
    expect(decisions.map((row) => [row.occurred_at.toISOString() >= WITHDRAWN_AT, row.status])).toEqual([
      [false, 'counted'],
      [true, 'no_consent'],
      [true, 'no_consent'],
    ]);
  });

  it('never counts a person who did not grant consent: the opt-in default (off) and no consent event alike', async () => {
    for (const person of [NEVER_GRANTED, NO_EVENT]) {
      const decisions = await live.sql<{ status: string }>('SELECT status FROM purchases WHERE person_key = $1', [
        pseudonymize(PSEUDONYM_KEY, 'person', person),
      ]);
      expect({ person, statuses: decisions.map((row) => row.status) }).toEqual({ person, statuses: ['no_consent'] });
    }
  });

  it('reduces the window a refund belongs to, and counts at most the bound per person', () => {
    const published = aggregates(live.output.records);
    // 6 buyers, one refunded in full (out), one by 10.00; the first buyer's 3 purchases count twice.
    expect(cell(published, ELECTRONICS, 'hour', H11)?.measures).toEqual({
      purchases: 6,
      distinctPeople: 5,
      amounts: [{ currency: 'EUR', amount: String(6 * 2500 - 1000) }],
    });
    expect(cell(published, ELECTRONICS, 'hour', H11, 'paymentMethodType', 'paypal')?.measures.purchases).toBe(6);
  });

  it('replaying all input into a fresh store publishes byte-identical aggregates; a redelivery to the same store publishes nothing new', async () => {
    const sorted = (records: readonly KafkaRecord[]): string[] =>
      records.map((record) => `${record.key} ${record.value} ${canonicalJson(record.headers)}`).sort();
    expect(live.output.records.length).toBeGreaterThan(20);
    expect(sorted(replay.output.records)).toEqual(sorted(live.output.records));
    for (const record of live.output.records) {
      const envelope = parseEvent(JSON.parse(record.value));
      expect(envelope.id).toBe((envelope.data as AdSignalAggregatePublished).cellId);
      expect(envelope.occurredAt).toBe((envelope.data as AdSignalAggregatePublished).window.end);
    }

    const before = live.output.records.length;
    const outboxBefore = await outboxHead(live);
    await input.publish(topics.payments, events.payments.slice(0, 20));
    await live.waitForInput(phaseA + 20);
    expect(live.consumer.stats.duplicates).toBeGreaterThanOrEqual(20);
    expect(await live.closer.closeDueWindows()).toMatchObject({ hoursClosed: 0, daysClosed: 0 });
    // Both have committed: whatever they were to publish is in the outbox by now.
    expect(await outboxHead(live)).toBe(outboxBefore);
    expect(live.output.records.length).toBe(before);
  });

  it('adds Laplace noise of the configured scale when differential privacy is on, and refuses queries once the advertiser budget is spent', async () => {
    const exact = aggregates(live.output.records);
    const withNoise = aggregates(noisy.output.records);
    // Suppression does not depend on noise: the same cells, with the same ids.
    expect(withNoise.map((event) => event.id).sort()).toEqual(exact.map((event) => event.id).sort());
    // ε 6 per window over 6 groupings × 3 measures: ε 1/3 each; at most 2 purchases per person; 50.00 clamp.
    for (const event of withNoise)
      expect(event.data.privacy).toMatchObject({ noise: 'laplace', epsilonPerWindow: 6, scales: { purchases: 6, distinctPeople: 6, amounts: 30_000 } });
    const differing = withNoise.filter((event) => canonicalJson(event.data.measures) !== canonicalJson(exact.find((e) => e.id === event.id)?.data.measures));
    expect(differing.length).toBeGreaterThan(withNoise.length / 2);

    const token = await idp.signTestToken({ sub: 'advertiser-books', role: 'advertiser', merchants: [BOOKS], org: 'org-books' });
    const ask = async (granularity: string, from: string, to: string, as = token) => {
      const response = await noisy.query<{ cells: AdSignalAggregatePublished[]; privacyBudget?: { spent: number; remaining: number }; code?: string }>(
        `/v1/ad-signals/aggregates?granularity=${granularity}&from=${from}&to=${to}`,
        as,
      );
      apiResponses.push(JSON.stringify(response.body));
      return response;
    };
    const days = await ask('day', D0, '2026-03-04T00:00:00.000Z');
    expect(days.status).toBe(200);
    expect(days.body.privacyBudget).toEqual({ total: 15, spent: 12, remaining: 3 });
    // Asking again for what was seen costs nothing: the noise of a cell never changes.
    const again = await ask('day', D0, '2026-03-04T00:00:00.000Z');
    expect(again.body.privacyBudget?.spent).toBe(12);
    expect(again.body.cells).toEqual(days.body.cells);
    const hours = await ask('hour', D0, '2026-03-04T00:00:00.000Z');
    expect(hours.status).toBe(403);
    expect(hours.body.code).toBe('PRIVACY_BUDGET_EXHAUSTED');
    // Another user of the same organisation shares its budget: a new token is not a new budget.
    const colleague = await idp.signTestToken({ sub: 'advertiser-books-2', role: 'advertiser', merchants: [BOOKS], org: 'org-books' });
    expect((await ask('day', D0, '2026-03-04T00:00:00.000Z', colleague)).body.privacyBudget).toEqual({ total: 15, spent: 12, remaining: 3 });
    expect((await ask('hour', D0, '2026-03-04T00:00:00.000Z', colleague)).body.code).toBe('PRIVACY_BUDGET_EXHAUSTED');
    // Another organisation has its own.
    const other = await idp.signTestToken({ sub: 'advertiser-books', role: 'advertiser', merchants: [BOOKS], org: 'org-other' });
    expect((await ask('day', D0, '2026-03-04T00:00:00.000Z', other)).body.privacyBudget).toEqual({ total: 15, spent: 12, remaining: 3 });
  });

  it('counts events that arrive after their window closed in a correction record instead of dropping them', async () => {
    const before = live.output.records.length;
    const lateBuy = events.purchase({ personId: READERS[0], merchantId: BOOKS, at: at(H10, 50) });
    const lateRefund = events.refund(captured.get(`${MESSENGER[0]}@${ELECTRONICS}@${at(H10, 15)}`) as EventEnvelope, {
      at: '2026-03-04T07:00:00.000Z',
      amount: '500',
      refundedTotal: '500',
      full: false,
    });
    const newEvents = events.payments.filter((event) => event.subject === lateBuy.paymentId || event.id === lateRefund.id);
    await input.publish(topics.payments, newEvents);
    // A withdrawal dated before purchases that were already judged: counted as a correction too.
    await input.publish(topics.wallet, [events.consent(READERS[3], at(H10, 1), false)]);
    const rows = await waitFor(
      () => live.sql<{ kind: string; events: number; amount: string }>(`SELECT kind, events, amount::text AS amount FROM late_event_corrections ORDER BY kind`),
      (found) => found.length >= 3,
      { timeoutMs: 30_000 },
    );
    expect(rows).toEqual([
      { kind: 'late_consent', events: 3, amount: '0' },
      { kind: 'late_purchase', events: 1, amount: '2500' },
      { kind: 'late_refund', events: 1, amount: '500' },
    ]);
    const outboxBefore = await outboxHead(live);
    await live.closer.closeDueWindows();
    expect(await outboxHead(live)).toBe(outboxBefore); // committed: a correction published nothing
    expect(live.output.records.length).toBe(before);
    expect(cell(aggregates(live.output.records), BOOKS, 'hour', H10)?.measures.purchases).toBe(READERS.length + 1);
  });

  it('sends input that is not a payment fact to the dead-letter topic with the reason', async () => {
    const dlq = await watchTopic(deadLetterTopicOf(topics.payments));
    try {
      const valid = JSON.parse(JSON.stringify(events.purchase({ personId: READERS[1], merchantId: BOOKS, at: '2026-03-04T06:30:00.000Z' }).captured)) as Record<
        string,
        unknown
      > & { data: Record<string, unknown> };
      const initiated = events.payments[events.payments.length - 2];
      await input.publish(topics.payments, [initiated]);
      await input.publishRaw(topics.payments, String(valid.subject), { ...valid, id: crypto.randomUUID(), version: 2 });
      await input.publishRaw(topics.payments, String(valid.subject), {
        ...valid,
        id: crypto.randomUUID(),
        data: { ...valid.data, amount: { amount: '12.50', currency: 'EUR' } },
      });
      const zero = events.purchase({ personId: READERS[2], merchantId: BOOKS, at: '2026-03-04T06:31:00.000Z', amount: '0' });
      await input.publish(
        topics.payments,
        events.payments.filter((event) => event.subject === zero.paymentId),
      );
      const tooMuch = events.refund(captured.get(`${MESSENGER[1]}@${ELECTRONICS}@${at(H10, 16)}`) as EventEnvelope, {
        at: '2026-03-04T06:40:00.000Z',
        amount: '999999',
        refundedTotal: '999999',
        full: true,
      });
      await input.publish(topics.payments, [tooMuch]);
      // A capture whose initiation never came, between two whole purchases: it alone is dead-lettered.
      const before = events.purchase({ personId: READERS[3], merchantId: BOOKS, at: '2026-03-04T06:32:00.000Z' });
      const orphan = events.purchase({ personId: READERS[4], merchantId: BOOKS, at: '2026-03-04T06:33:00.000Z' });
      const after = events.purchase({ personId: READERS[3], merchantId: BOOKS, at: '2026-03-04T06:34:00.000Z' });
      await input.publish(topics.payments, [
        ...events.payments.filter((event) => event.subject === before.paymentId),
        orphan.captured,
        ...events.payments.filter((event) => event.subject === after.paymentId),
      ]);
      const group = live.service.runtime.config.AD_SIGNALS_CONSUMER_GROUP;
      const ours = await waitFor(
        () => dlq.records.filter((record) => record.headers['dlq-consumer'] === group),
        (records) => records.length >= 5,
        { timeoutMs: 30_000 },
      );
      const reasons = ours.map((record) => record.headers['dlq-reason']);
      expect(reasons).toEqual(
        expect.arrayContaining([
          expect.stringContaining('unknown event type payments.payment.captured version 2'),
          expect.stringMatching(/data\.amount\.amount: amount must be a whole number of minor units/),
          expect.stringMatching(/a capture of 0 EUR is not a purchase/),
          expect.stringMatching(/refunds would total 999999 minor units, more than the 2500 captured/),
          expect.stringContaining(`payment ${orphan.paymentId} was captured but its payments.payment.initiated never arrived`),
        ]),
      );
      expect(ours).toHaveLength(5);
      const stored = await waitFor(
        () =>
          live.sql<{ n: number }>('SELECT count(*)::int AS n FROM purchases WHERE payment_key = ANY($1)', [
            [before, after].map((p) => pseudonymize(PSEUDONYM_KEY, 'payment', p.paymentId)),
          ]),
        (rows) => rows[0].n === 2,
        { timeoutMs: 30_000 },
      );
      expect(stored[0].n).toBe(2);
      for (const record of ours) expect(record.headers['dlq-original-topic']).toBe(topics.payments);
    } finally {
      await dlq.stop();
    }
  });

  it("answers advertisers with their own merchants' cells only", async () => {
    const call = async (path: string, claims?: Record<string, unknown>) => {
      const token = claims ? await idp.signTestToken({ sub: 'advertiser-1', role: 'advertiser', org: 'org-1', ...claims }) : undefined;
      const response = await live.query<{ cells?: AdSignalAggregatePublished[]; code?: string }>(path, token);
      apiResponses.push(JSON.stringify(response.body));
      return response;
    };
    const path = `/v1/ad-signals/aggregates?granularity=hour&from=${D0}&to=${D1}`;
    const own = await call(path, { merchants: [ELECTRONICS] });
    expect(own.status).toBe(200);
    expect(own.body.cells?.length).toBeGreaterThan(0);
    expect(new Set(own.body.cells?.map((c) => c.merchantId))).toEqual(new Set([ELECTRONICS]));
    expect(own.body.cells?.find((c) => c.grouping === 'total' && c.window.start === H10)?.measures.distinctPeople).toBe(15);
    expect((await call(`${path}&merchantId=${BOOKS}`, { merchants: [ELECTRONICS] })).status).toBe(404);
    expect((await call(`${path}&merchantId=${BOOKS}`, { merchants: [ELECTRONICS, BOOKS] })).body.cells?.every((c) => c.merchantId === BOOKS)).toBe(true);
    expect((await call(path, {})).status).toBe(401);
    expect((await call(path, { merchants: [] })).status).toBe(401);
    expect((await call(path, { merchants: [ELECTRONICS], org: undefined })).status).toBe(401);
    const person = await live.query(path, await idp.signTestToken({ sub: INSTAGRAM[0], role: 'person' }));
    expect(person.status).toBe(403);
    expect((await call(path)).status).toBe(401);
    expect((await call(`/v1/ad-signals/aggregates?granularity=week&from=${D0}&to=${D1}`, { merchants: [ELECTRONICS] })).status).toBe(400);
  });

  it('publishes no person id, pseudonym, e-mail, phone, card number, IBAN or time finer than a window, anywhere', () => {
    const published = [live, replay, noisy].flatMap((instance) =>
      instance.output.records.map((record) => `${record.key}\n${record.value}\n${JSON.stringify(record.headers)}`),
    );
    const everything = [...published, ...apiResponses].join('\n');
    expect(published.length).toBeGreaterThan(60);
    // Card numbers (Luhn), IBANs, e-mail addresses and phone numbers: the log scrubber finds none.
    expect(scrubText(everything)).toBe(everything);
    for (const person of EVERYONE) {
      expect(everything).not.toContain(person);
      expect(everything).not.toContain(pseudonymize(PSEUDONYM_KEY, 'person', person));
    }
    for (const event of events.payments) expect(everything).not.toContain((event.data as { paymentId: string }).paymentId);
    expect(everything).not.toContain(NOISE_KEY);
    for (const time of everything.match(/\d{4}-\d\d-\d\dT[0-9:.]+Z?/g) ?? []) expect(time).toMatch(/T\d\d:00:00(\.000)?Z$/);
  });
});
