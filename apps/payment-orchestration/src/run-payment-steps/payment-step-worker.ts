import type { ChannelSubscription, PgNotifications } from '@pay/messaging';
import { backoffDelayMs } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import { contextFromHeaders, tracer } from '@pay/observability';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { DeadlineScheduler } from '@pay/platform';
import { isLostAppendRace } from '../payments/store/payment-event-store';
import type { ClaimedStep, PaymentSteps, StepAnnouncement, StepName } from './payment-steps';

/**
 * What running a step came to: done (the row goes; `completed`: the handler removed it already,
 * in the transaction of its effect), or try again later with the same idempotency keys.
 */
export type StepResult =
  { readonly outcome: 'done'; readonly completed?: boolean } | { readonly outcome: 'retry'; readonly afterMs: number; readonly reason: string };

export type StepHandler = (step: ClaimedStep) => Promise<StepResult>;

export interface PaymentStepWorkerOptions {
  readonly steps: PaymentSteps;
  /** The handler of a step by its name (`refund:<id>` -> the refund handler). */
  readonly handlerFor: (step: StepName) => StepHandler | undefined;
  readonly logger: Logger;
  /** The process's LISTEN connection; without it the worker only polls. */
  readonly notifications?: PgNotifications;
  readonly concurrency: number;
  /** How long a claim holds a step; renewed every third of it while the step runs, so only a dead worker's lease runs out. */
  readonly leaseMs: number;
  /** The least time between two passes run for deadlines, and the poll interval without LISTEN. */
  readonly pollMs: number;
}

/** After a failed pass (the database out of reach): 200 ms, doubling, up to 5 s, jittered; at least pollMs apart. */
const FAILED_PASS_BACKOFF = { baseMs: 200, maxMs: 5_000 };

/** How long a step waits before its next attempt: the shared capped, doubling, jittered backoff, in whole ms. */
export function backoffMs(attempts: number, baseMs = 500, capMs = 60_000): number {
  return Math.round(backoffDelayMs(attempts, { baseMs, maxMs: capMs }));
}

/**
 * Runs due payment steps, at most `concurrency` at once. New steps are announced by NOTIFY on
 * commit and claimed at once. Otherwise the worker runs no statement until the earliest moment a
 * step can become claimable (DeadlineScheduler): the next due time (a retry, a deadline) or the
 * end of a lease (its worker may have died), read after each pass and lowered by announcements of
 * steps due later. A pass (claim what is due, read the next moment) also runs at start, after a
 * reconnect (what was announced meanwhile reached no one) and when a slot frees while work
 * waited for one. Passes are at least `pollMs` apart, so many deadlines under load cost one pass
 * per `pollMs`, as polling did; without a LISTEN connection the worker polls every `pollMs`.
 */
export class PaymentStepWorker {
  private running = false;
  private inFlight = 0;
  private readonly active = new Set<Promise<void>>();
  private subscription?: ChannelSubscription;
  private readonly scheduler: DeadlineScheduler;
  private started?: Promise<void>;
  /** Work waits for a free slot (a full batch, a due time or an announcement with no slot free): pass when one frees. */
  private waitingForSlot = false;
  private failures = 0;
  /** Steps announced and not claimed yet: claimed together on the next turn of the event loop. */
  private readonly announcedSteps: { paymentId: string; step: StepName }[] = [];
  private claimScheduled = false;
  /** Steps this worker is running, by `paymentId\0step`: their leases are renewed while they run. */
  private readonly held = new Map<string, ClaimedStep>();
  private heartbeat?: NodeJS.Timeout;
  /** Passes run, for tests: idle, this stays still. */
  passes = 0;
  /** Statements that claimed announced steps, for tests. */
  announcedClaims = 0;

  constructor(private readonly options: PaymentStepWorkerOptions) {
    this.scheduler = new DeadlineScheduler({ run: () => this.turn(), minIntervalMs: options.pollMs });
  }

  async start(): Promise<void> {
    this.running = true;
    // Lost while alive, the instance's lock no longer tells that this process lives: its leases stop naming the instance.
    this.options.steps.whenOwnerLost((disowned) => {
      if (disowned instanceof Error)
        this.options.logger.warn({ reason: disowned.message }, "the instance's lock was lost and the leases of its steps still name it; they run out as usual");
      else this.options.logger.warn({ steps: disowned }, "the instance's lock was lost: the payment steps this process runs no longer name it");
    });
    // After a crash (of this instance's previous process, or of an instance gone for good): what the dead process was running is due again now.
    const freed = await this.options.steps.releaseLeasesOfDeadProcesses();
    if (freed.size > 0)
      this.options.logger.info({ steps: Object.fromEntries(freed) }, 'freed the payment steps that dead processes held, by instance; they run again now');
    await this.listen();
    this.started = this.scheduler.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.started;
    await this.scheduler.stop();
    await this.subscription?.close();
    this.subscription = undefined;
    // The steps still running keep their leases renewed until they finish.
    await Promise.allSettled([...this.active]);
  }

  /** Runs every step due now until none is left (tests, the reconciliation tool). Returns how many ran. */
  async drain(): Promise<number> {
    let ran = 0;
    for (;;) {
      const claimed = await this.options.steps.claimDue(this.options.concurrency, this.options.leaseMs);
      if (claimed.length === 0) return ran;
      await Promise.all(claimed.map((step) => this.run(step)));
      ran += claimed.length;
    }
  }

  private async listen(): Promise<void> {
    if (!this.options.notifications) return;
    this.subscription = await this.options.notifications.subscribe(this.options.steps.channel, {
      notified: (payload) => {
        if (!payload) return;
        let announcement: StepAnnouncement;
        try {
          announcement = JSON.parse(payload) as StepAnnouncement;
        } catch {
          return; // Not ours: only this service notifies on its channel.
        }
        if (announcement.dueAt !== undefined && announcement.dueAt > Date.now()) this.expectAt(announcement.dueAt);
        else this.runAnnounced(announcement.paymentId, announcement.step);
      },
      // Anything committed before LISTEN took effect (at start, or while the connection was down) was announced to no one.
      listening: () => this.announce(),
      // Polling (every pollMs) until it is back: see turn().
      lost: () => this.announce(),
    });
  }

  /** One turn of the scheduler: reconnect if needed, pass if a slot is free, and poll while not listening. */
  private async turn(): Promise<void> {
    if (!this.running) return;
    if (this.inFlight >= this.options.concurrency) {
      this.waitingForSlot = true;
    } else {
      try {
        await this.pass();
        this.failures = 0;
      } catch (error) {
        this.failures += 1;
        this.options.logger.error({ reason: (error as Error).message, failures: this.failures }, 'polling payment steps failed');
        this.scheduler.expectAt(Date.now() + backoffDelayMs(this.failures, FAILED_PASS_BACKOFF));
      }
    }
    // Without LISTEN nobody announces anything: look again after pollMs.
    if (!this.subscription?.listening) this.scheduler.expectAt(Date.now());
  }

  /** Claims what is due now, then reads when the next step can become claimable. */
  private async pass(): Promise<void> {
    this.passes += 1;
    const free = this.options.concurrency - this.inFlight;
    const claimed = await this.options.steps.claimDue(free, this.options.leaseMs);
    for (const step of claimed) this.track(this.run(step));
    // A full batch: more may be waiting; look again as soon as a slot frees. That pass (which runs
    // since the steps just claimed end, done or failed) reads the next due time: reading it now would be a
    // statement per pass for nothing while the worker is saturated.
    if (claimed.length === free) {
      this.waitingForSlot = true;
      return;
    }
    // Read after the claim, leaving out the steps this worker runs (their leases run out only if it
    // dies, and its timers with it): waking at each of their leases' ends would be passes for nothing.
    const next = await this.options.steps.nextDueAt([...this.held.values()]);
    if (next !== undefined) this.expectAt(next);
  }

  /** A step can become claimable at `at`: make sure a pass runs then. */
  private expectAt(at: number): void {
    this.scheduler.expectAt(at);
  }

  /** Work may be waiting now that no deadline covers: pass as soon as a slot is free. */
  private announce(): void {
    if (this.inFlight >= this.options.concurrency) this.waitingForSlot = true;
    else this.scheduler.runSoon();
  }

  /**
   * An announced step is claimed with the others announced in the same turn of the event loop
   * (one commit announces all the steps it scheduled, and they arrive together): one statement.
   */
  private runAnnounced(paymentId: string, step: StepName): void {
    if (!this.running) return;
    this.announcedSteps.push({ paymentId, step });
    if (this.claimScheduled) return;
    this.claimScheduled = true;
    setImmediate(() => {
      this.claimScheduled = false;
      void this.claimAnnounced();
    });
  }

  private async claimAnnounced(): Promise<void> {
    const free = this.options.concurrency - this.inFlight;
    const wanted = this.announcedSteps.splice(0);
    // No free slot (or not for all): a pass picks the rest up when one frees.
    if (wanted.length > free) this.announce();
    const batch = wanted.slice(0, Math.max(0, free));
    if (!this.running || batch.length === 0) return;
    try {
      this.announcedClaims += 1;
      const claimed = await this.options.steps.claimMany(batch, this.options.leaseMs);
      for (const step of claimed) this.track(this.run(step));
      // Lost to another worker (or already done): should that worker die, its lease runs out then.
      if (claimed.length < batch.length) this.expectAt(Date.now() + this.options.leaseMs);
    } catch (error) {
      this.options.logger.error({ steps: batch.length, reason: (error as Error).message }, 'claiming announced payment steps failed');
      this.announce();
    }
  }

  private track(work: Promise<void>): void {
    this.active.add(work);
    void work.finally(() => this.active.delete(work));
  }

  /**
   * Runs the handler in a span continuing the trace of whatever scheduled the step, so the PSP
   * call and the events it leads to stay in the purchase's trace across the commit in between.
   */
  private async runTraced(claimed: ClaimedStep, handler: StepHandler): Promise<StepResult> {
    const { paymentId, step } = claimed;
    const parent = contextFromHeaders(claimed.traceContext);
    const span = tracer('payment-orchestration').startSpan(
      `payment step ${step.split(':', 1)[0]}`,
      { attributes: { 'payment.id': paymentId, 'payment.step': step, 'payment.step.attempt': claimed.attempts } },
      parent,
    );
    try {
      const result = await context.with(trace.setSpan(parent, span), () => handler(claimed));
      span.setAttribute('payment.step.outcome', result.outcome);
      return result;
    } catch (error) {
      // An outage (database, broker) or a bug: retried with backoff; the step is never dropped.
      const reason = `${(error as Error).name}: ${(error as Error).message}`;
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
      if (isLostAppendRace(error)) {
        // Other writers of the payment kept winning (many refunds at once): expected, not a fault.
        this.options.logger.warn({ paymentId, step, attempts: claimed.attempts, reason }, 'payment step lost the race for the payment; retrying later');
      } else {
        this.options.logger.error({ paymentId, step, attempts: claimed.attempts, reason }, 'payment step failed; retrying later');
      }
      return { outcome: 'retry', afterMs: backoffMs(claimed.attempts), reason };
    } finally {
      span.end();
    }
  }

  /** Holds a step's lease while it runs: renewed every third of the lease, from the first step held to the last released. */
  private hold(claimed: ClaimedStep): () => void {
    const key = `${claimed.paymentId}\u0000${claimed.step}`;
    this.held.set(key, claimed);
    this.heartbeat ??= setInterval(() => void this.renewLeases(), Math.max(100, Math.floor(this.options.leaseMs / 3)));
    return () => {
      if (this.held.get(key) === claimed) this.held.delete(key);
      if (this.held.size === 0) {
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
      }
    };
  }

  private async renewLeases(): Promise<void> {
    const held = [...this.held.values()];
    try {
      const lost = await this.options.steps.renew(held, this.options.leaseMs);
      for (const step of lost) {
        if (this.held.get(`${step.paymentId}\u0000${step.step}`) !== step) continue; // finished meanwhile
        this.options.logger.warn(
          { paymentId: step.paymentId, step: step.step, attempts: step.attempts },
          'payment step lease lost while running (not renewed in time); another worker may run it too, with the same idempotency keys',
        );
      }
    } catch (error) {
      this.options.logger.warn({ steps: held.length, reason: (error as Error).message }, 'renewing payment step leases failed; retrying at the next heartbeat');
    }
  }

  private async run(claimed: ClaimedStep): Promise<void> {
    const { paymentId, step } = claimed;
    this.inFlight += 1;
    const release = this.hold(claimed);
    try {
      const handler = this.options.handlerFor(step);
      if (!handler) {
        this.options.logger.error({ paymentId, step }, 'no handler for this payment step; it stays for an operator');
        await this.options.steps.retryLater(paymentId, step, 3_600_000, 'no handler for this step');
        return;
      }
      const result = await this.runTraced(claimed, handler);
      if (result.outcome === 'done') {
        if (!result.completed) await this.options.steps.complete(paymentId, step);
      } else {
        await this.options.steps.retryLater(paymentId, step, result.afterMs, result.reason);
        this.expectAt(Date.now() + result.afterMs);
      }
    } catch (error) {
      this.options.logger.error(
        { paymentId, step, reason: (error as Error).message },
        'recording a payment step result failed; its lease will run out and it runs again',
      );
      this.expectAt(Date.now() + this.options.leaseMs);
    } finally {
      release();
      this.inFlight -= 1;
      // A slot is free: pass for what waited for one, or for a due time already passed (and run nothing, if neither).
      if (this.waitingForSlot && this.running) {
        this.waitingForSlot = false;
        this.scheduler.runSoon();
      } else if (this.running) {
        this.scheduler.runIfDue();
      }
    }
  }
}
