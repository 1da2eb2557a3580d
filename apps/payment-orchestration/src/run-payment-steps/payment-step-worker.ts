import type { Logger } from '@pay/observability';
import { contextFromHeaders, tracer } from '@pay/observability';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { Client } from 'pg';
import { isLostAppendRace } from '../payments/store/payment-event-store';
import type { ClaimedStep, PaymentSteps, StepName } from './payment-steps';

/**
 * What running a step came to: done (the row goes; `completed`: the handler removed it already,
 * in the transaction of its effect), or try again later with the same idempotency keys.
 */
export type StepResult = { readonly outcome: 'done'; readonly completed?: boolean } | { readonly outcome: 'retry'; readonly afterMs: number; readonly reason: string };

export type StepHandler = (step: ClaimedStep) => Promise<StepResult>;

export interface PaymentStepWorkerOptions {
  readonly steps: PaymentSteps;
  /** The handler of a step by its name (`refund:<id>` -> the refund handler). */
  readonly handlerFor: (step: StepName) => StepHandler | undefined;
  readonly logger: Logger;
  /** For the LISTEN connection; without it the worker only polls. */
  readonly databaseUrl?: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollMs: number;
}

/** Exponential backoff with jitter, capped: how long a step waits before its next attempt. */
export function backoffMs(attempts: number, baseMs = 500, capMs = 60_000): number {
  const exponential = Math.min(capMs, baseMs * 2 ** Math.min(attempts - 1, 16));
  return Math.round(exponential / 2 + Math.random() * (exponential / 2));
}

/**
 * Runs due payment steps, at most `concurrency` at once. New steps are announced by NOTIFY on
 * commit and started at once; a poll picks up the rest (retries coming due, steps whose worker
 * died and whose lease ran out, notifications missed while disconnected).
 */
export class PaymentStepWorker {
  private running = false;
  private inFlight = 0;
  private readonly active = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private listener?: Client;
  private polling = false;

  constructor(private readonly options: PaymentStepWorkerOptions) {}

  async start(): Promise<void> {
    this.running = true;
    await this.listen();
    this.schedulePoll(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
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
    if (!this.options.databaseUrl) return;
    const client = new Client({ connectionString: this.options.databaseUrl, connectionTimeoutMillis: 5_000 });
    client.on('notification', (message) => {
      if (!message.payload) return;
      try {
        const { paymentId, step } = JSON.parse(message.payload) as { paymentId: string; step: StepName };
        void this.runAnnounced(paymentId, step);
      } catch {
        // Not ours: only this service notifies on its channel.
      }
    });
    client.on('error', (error) => {
      this.options.logger.warn({ reason: error.message }, 'payment step listener lost its connection; polling until it is back');
      if (this.listener === client) this.listener = undefined;
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.steps.channel}"`);
      this.listener = client;
    } catch (error) {
      this.options.logger.warn({ reason: (error as Error).message }, 'cannot listen for payment steps; polling only');
      await client.end().catch(() => undefined);
    }
  }

  private schedulePoll(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if (!this.listener && this.options.databaseUrl) await this.listen();
      const free = this.options.concurrency - this.inFlight;
      if (free > 0) {
        const claimed = await this.options.steps.claimDue(free, this.options.leaseMs);
        for (const step of claimed) this.track(this.run(step));
        // A full batch: more may be waiting; look again as soon as a slot frees.
        if (claimed.length === free) return this.schedulePoll(50);
      }
    } catch (error) {
      this.options.logger.error({ reason: (error as Error).message }, 'polling payment steps failed');
    } finally {
      this.polling = false;
    }
    this.schedulePoll(this.options.pollMs);
  }

  private async runAnnounced(paymentId: string, step: StepName): Promise<void> {
    // No free slot: the poll will get to it.
    if (!this.running || this.inFlight >= this.options.concurrency) return;
    try {
      const claimed = await this.options.steps.claim(paymentId, step, this.options.leaseMs);
      if (claimed) this.track(this.run(claimed));
    } catch (error) {
      this.options.logger.error({ paymentId, step, reason: (error as Error).message }, 'claiming an announced payment step failed');
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

  private async run(claimed: ClaimedStep): Promise<void> {
    const { paymentId, step } = claimed;
    this.inFlight += 1;
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
      }
      else await this.options.steps.retryLater(paymentId, step, result.afterMs, result.reason);
    } catch (error) {
      this.options.logger.error({ paymentId, step, reason: (error as Error).message }, 'recording a payment step result failed; its lease will run out and it runs again');
    } finally {
      this.inFlight -= 1;
    }
  }
}
