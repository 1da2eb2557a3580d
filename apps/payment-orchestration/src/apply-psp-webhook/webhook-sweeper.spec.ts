import type { WebhookSweep } from './apply-psp-webhook';
import { WebhookSweeper } from './webhook-sweeper';

/** An ApplyPspWebhook stand-in: each sweep answers the next scripted result; retries announced through `announce`. */
function webhooksThat(...answers: Array<WebhookSweep | Error>) {
  const listeners = new Set<(at: Date) => void>();
  const sweep = jest.fn(async (): Promise<WebhookSweep> => {
    const answer = answers.length > 1 ? answers.shift()! : (answers[0] ?? { applied: 0 });
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return {
    sweep,
    watchRetries: (listener: (at: Date) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    announce: (at: Date) => listeners.forEach((listener) => listener(at)),
    listeners,
  };
}

const options = { minIntervalMs: 1_000, retryMs: 5_000 };

describe('WebhookSweeper', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.parse('2026-12-05T12:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('sweeps once at start and then never while nothing is due', async () => {
    const webhooks = webhooksThat({ applied: 0 });
    const sweeper = new WebhookSweeper(webhooks, options);
    await sweeper.start();
    expect(webhooks.sweep).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(7 * 24 * 3_600_000);
    expect(webhooks.sweep).toHaveBeenCalledTimes(1);
    await sweeper.stop();
  });

  it('sleeps until the next due time the sweep read, and no longer', async () => {
    const webhooks = webhooksThat({ applied: 0, nextDueAt: new Date(Date.now() + 40_000) }, { applied: 1 });
    const sweeper = new WebhookSweeper(webhooks, options);
    await sweeper.start();
    await jest.advanceTimersByTimeAsync(39_999);
    expect(webhooks.sweep).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(webhooks.sweep).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(webhooks.sweep).toHaveBeenCalledTimes(2);
    await sweeper.stop();
  });

  it('is woken by a webhook this process could not apply, sooner than planned, at most once per interval', async () => {
    const webhooks = webhooksThat({ applied: 0, nextDueAt: new Date(Date.now() + 3_600_000) }, { applied: 0 });
    const sweeper = new WebhookSweeper(webhooks, options);
    await sweeper.start();
    webhooks.announce(new Date(Date.now() + 5_000));
    webhooks.announce(new Date(Date.now() + 5_200)); // later than planned: changes nothing
    await jest.advanceTimersByTimeAsync(4_999);
    expect(webhooks.sweep).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(webhooks.sweep).toHaveBeenCalledTimes(2);
    // Due at once, but the last sweep was just now: it waits for minIntervalMs.
    webhooks.announce(new Date(Date.now()));
    await jest.advanceTimersByTimeAsync(999);
    expect(webhooks.sweep).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(webhooks.sweep).toHaveBeenCalledTimes(3);
    await sweeper.stop();
  });

  it('sleeps towards a due time past setTimeout’s ceiling in steps, sweeping only then', async () => {
    const in30Days = 30 * 24 * 3_600_000;
    const webhooks = webhooksThat({ applied: 0, nextDueAt: new Date(Date.now() + in30Days) }, { applied: 0 });
    const sweeper = new WebhookSweeper(webhooks, options);
    await sweeper.start();
    await jest.advanceTimersByTimeAsync(2 ** 31); // past the ceiling: a timer fired, no sweep
    expect(webhooks.sweep).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(in30Days - 2 ** 31 - 1);
    expect(webhooks.sweep).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(webhooks.sweep).toHaveBeenCalledTimes(2);
    await sweeper.stop();
  });

  it('tries a failed sweep again after retryMs, and reports the failure', async () => {
    const onError = jest.fn();
    const webhooks = webhooksThat(new Error('connection refused'), { applied: 0 });
    const sweeper = new WebhookSweeper(webhooks, { ...options, onError });
    await sweeper.start();
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'connection refused' }));
    await jest.advanceTimersByTimeAsync(4_999);
    expect(webhooks.sweep).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(webhooks.sweep).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(webhooks.sweep).toHaveBeenCalledTimes(2);
    await sweeper.stop();
  });

  it('stop waits for the sweep in flight, stops listening and sweeps no more', async () => {
    let finish!: () => void;
    const webhooks = webhooksThat({ applied: 0 });
    const sweeper = new WebhookSweeper(webhooks, options);
    await sweeper.start();
    webhooks.sweep.mockImplementationOnce(
      () => new Promise<WebhookSweep>((resolve) => (finish = () => resolve({ applied: 1, nextDueAt: new Date(Date.now() + 10) }))),
    );
    webhooks.announce(new Date(Date.now() + 2_000));
    await jest.advanceTimersByTimeAsync(2_000);
    expect(webhooks.sweep).toHaveBeenCalledTimes(2);
    let stopped = false;
    const stopping = sweeper.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(webhooks.listeners.size).toBe(0);
    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(webhooks.sweep).toHaveBeenCalledTimes(2);
  });
});
