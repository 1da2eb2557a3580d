import { createHash } from 'node:crypto';
import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { ChannelSubscription, PgNotifications } from '@pay/messaging';
import { PG_NOTIFICATIONS, SERVICE_CONFIG } from '@pay/platform';
import { DataSource } from 'typeorm';
import type { WalletConfig } from '../config';
import type { KnownPayment } from './instrument-release-rule';

/** The channel a schema's `payments_in_progress` announces new payments on (its trigger, migration 1765670400000, names it the same way). */
export function paymentKnownChannel(schema: string): string {
  return `payment_known_${schema.length <= 48 ? schema : createHash('md5').update(schema).digest('hex')}`;
}

/**
 * Wakes an instrument release that waits for a payment the wallet has not read yet: the process's
 * LISTEN connection (PgNotifications) subscribes to the schema's channel, on which the trigger of
 * `payments_in_progress` announces each payment at the commit that records it, whichever replica
 * consumed it. Without the connection (it failed, it is being reopened) a wait simply lasts its
 * whole time and the release answers "not known yet", as it would without waiting.
 */
@Injectable()
export class PaymentArrivals implements OnApplicationBootstrap, OnModuleDestroy {
  private subscription?: ChannelSubscription;
  private readonly waiting = new Map<string, Set<(payment: KnownPayment | undefined) => void>>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: WalletConfig,
    @Inject(PG_NOTIFICATIONS) private readonly notifications: PgNotifications,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.INSTRUMENT_RELEASE_WAIT_MS <= 0) return;
    const [{ schema }] = await this.dataSource.query<{ schema: string }[]>('SELECT current_schema() AS schema');
    this.subscription = await this.notifications.subscribe(paymentKnownChannel(schema), {
      notified: (payload) => {
        if (!payload) return;
        const { paymentId, payment } = announcement(payload);
        for (const wake of this.waiting.get(paymentId) ?? []) wake(payment);
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
  }

  /**
   * Expects a payment the wallet may not have read yet: `within` resolves with it as its
   * announcement carries it (no read needed), or undefined after `ms` without one. Registered at
   * once, so an announcement between a read that did not find it and the wait is not missed.
   */
  expect(paymentId: string): PaymentArrival {
    let wake: (payment: KnownPayment | undefined) => void = () => undefined;
    const announced = new Promise<KnownPayment | undefined>((resolve) => (wake = resolve));
    const waiters = this.waiting.get(paymentId) ?? new Set();
    waiters.add(wake);
    this.waiting.set(paymentId, waiters);
    let timer: NodeJS.Timeout | undefined;
    const cancel = (): void => {
      clearTimeout(timer);
      waiters.delete(wake);
      if (waiters.size === 0 && this.waiting.get(paymentId) === waiters) this.waiting.delete(paymentId);
    };
    return {
      within: (ms) => Promise.race([announced, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]),
      cancel,
    };
  }
}

/** A payment a release waits for (PaymentArrivals.expect). */
export interface PaymentArrival {
  /** The payment as announced, or undefined if it was not within `ms`. */
  within(ms: number): Promise<KnownPayment | undefined>;
  /** No longer waited for (always call it). */
  cancel(): void;
}

/**
 * An announcement: the row as recorded (migration 1765670400001), or only its id as the first
 * trigger sent it (then the payment is undefined: the waiter reads it).
 */
function announcement(payload: string): { paymentId: string; payment?: KnownPayment } {
  if (!payload.startsWith('{')) return { paymentId: payload };
  const payment = JSON.parse(payload) as KnownPayment;
  return { paymentId: payment.paymentId, payment };
}
