/**
 * PgNotifications on real PostgreSQL: a process's channels share one LISTEN connection, each
 * subscriber hears only its channel, a lost connection is reopened and every subscriber is told
 * (lost, then listening again, to catch up), and the connection goes with the last subscriber.
 */
import { createLogger } from '@pay/observability';
import { isTrue, testDatabaseUrl, uniqueName, waitFor } from '@pay/testing';
import { Client } from 'pg';
import type { NotificationSubscriber } from './pg-notifications';
import { PgNotifications } from './pg-notifications';

const logger = createLogger('pg-notifications-test', 'silent');

describe('PgNotifications against real PostgreSQL', () => {
  let admin: Client;
  const opened: PgNotifications[] = [];

  beforeAll(async () => {
    admin = new Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.all(opened.map((notifications) => notifications.close()));
    await admin.end();
  });

  function open(applicationName: string): PgNotifications {
    const notifications = new PgNotifications({
      connectionString: testDatabaseUrl(),
      applicationName,
      logger,
      reconnect: { baseMs: 20, maxMs: 100 },
    });
    opened.push(notifications);
    return notifications;
  }

  /** The backends of the application name, and what each last ran. */
  const backends = async (applicationName: string): Promise<string[]> =>
    (await admin.query<{ query: string }>('SELECT query FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows.map((row) => row.query);

  function recorder(): NotificationSubscriber & { payloads: string[]; events: string[] } {
    const payloads: string[] = [];
    const events: string[] = [];
    return {
      payloads,
      events,
      notified: (payload) => payloads.push(payload),
      listening: () => events.push('listening'),
      lost: () => events.push('lost'),
    };
  }

  it('listens on every channel of the process over one connection, each subscriber hearing its own channel', async () => {
    const name = uniqueName('it_notify_one');
    const notifications = open(name);
    const [a, b] = [uniqueName('chan_a'), uniqueName('chan_b')];
    const onA = recorder();
    const onB = recorder();
    const subscriptionA = await notifications.subscribe(a, onA);
    const subscriptionB = await notifications.subscribe(b, onB);
    expect(subscriptionA.listening).toBe(true);
    expect(subscriptionB.listening).toBe(true);
    expect(onA.events).toEqual(['listening']);
    expect(onB.events).toEqual(['listening']);
    expect(await backends(name)).toHaveLength(1);

    await admin.query(`SELECT pg_notify($1, 'to a'), pg_notify($2, 'to b')`, [a, b]);
    await waitFor(
      () => onA.payloads.length + onB.payloads.length,
      (n) => n >= 2,
      { what: 'both notifications', timeoutMs: 10_000, intervalMs: 10 },
    );
    expect(onA.payloads).toEqual(['to a']);
    expect(onB.payloads).toEqual(['to b']);

    // The last subscriber gone, the connection goes too.
    await subscriptionA.close();
    expect(subscriptionA.listening).toBe(false);
    expect(await backends(name)).toHaveLength(1);
    await subscriptionB.close();
    await waitFor(
      () => backends(name),
      (rows) => rows.length === 0,
      { what: 'the LISTEN connection to close', timeoutMs: 10_000, intervalMs: 20 },
    );
  });

  it('reopens a lost connection and tells every subscriber, which then hears new notifications', async () => {
    const name = uniqueName('it_notify_lost');
    const notifications = open(name);
    const channel = uniqueName('chan_lost');
    const subscriber = recorder();
    const subscription = await notifications.subscribe(channel, subscriber);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]);
    await waitFor(
      () => subscriber.events,
      (events) => events.join() === 'listening,lost,listening',
      {
        what: 'the loss, then LISTEN again',
        timeoutMs: 10_000,
        intervalMs: 10,
      },
    );
    expect(subscription.listening).toBe(true);
    expect(await backends(name)).toHaveLength(1);
    await admin.query('SELECT pg_notify($1, $2)', [channel, 'after']);
    await waitFor(() => subscriber.payloads.includes('after'), isTrue, { what: 'the notification after the reconnect', timeoutMs: 10_000, intervalMs: 10 });
    await subscription.close();
  });

  it('answers at once when PostgreSQL cannot be reached: not listening, retrying in the background', async () => {
    const notifications = new PgNotifications({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      applicationName: uniqueName('it_notify_down'),
      logger,
      reconnect: { baseMs: 20, maxMs: 100 },
    });
    const subscriber = recorder();
    const subscription = await notifications.subscribe(uniqueName('chan_down'), subscriber);
    expect(subscription.listening).toBe(false);
    expect(subscriber.events).toEqual([]);
    await notifications.close();
  });
});
