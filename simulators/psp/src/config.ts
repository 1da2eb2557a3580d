import { IsWholeNumber } from '@pay/config';
import { IsOptional, IsString, Matches } from 'class-validator';

/** Environment of the PSP simulator, validated at start-up like every service's. */
export class PspSimulatorConfig {
  @IsWholeNumber({ min: 0, max: 65535, message: 'must be a whole number between 0 and 65535 (TCP port)' })
  PORT = 12111;

  @IsString()
  @Matches(/^[A-Za-z0-9.:-]+$/, { message: 'must be a host name or address to listen on' })
  HOST = '127.0.0.1';

  /** Where webhooks go: payment-orchestration's endpoint by default. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL, e.g. http://127.0.0.1:3002/v1/webhooks/stripe' })
  PSP_SIMULATOR_WEBHOOK_URL?: string = 'http://127.0.0.1:3002/v1/webhooks/stripe';

  /**
   * The event types sent to that endpoint, comma-separated (Stripe's `enabled_events` of the
   * endpoint), or `*` for all; `npm start` gives payment-orchestration's list. Others are
   * recorded, not sent.
   */
  @Matches(/^(\*|[a-z_]+(\.[a-z_]+)+(,[a-z_]+(\.[a-z_]+)+)*)$/, {
    message: 'must be * or a comma-separated list of Stripe event types, e.g. payment_intent.succeeded,refund.updated',
  })
  PSP_SIMULATOR_WEBHOOK_EVENTS = '*';

  /** The signing secret shared with the receiver (payment-orchestration reads the same variable). */
  @Matches(/^whsec_\S+$/, { message: 'must be a webhook signing secret starting with whsec_' })
  STRIPE_WEBHOOK_SECRET = 'whsec_simulator';

  /** The only API key accepted; unset, any sk_test_ key is. */
  @IsOptional()
  @Matches(/^(sk|rk)_test_\w+$/, { message: 'must be a test-mode key (sk_test_...): the simulator never takes live keys' })
  STRIPE_SECRET_KEY?: string;

  /** How long answers of the timeout scenario are held, in milliseconds. */
  @IsWholeNumber({ min: 1, message: 'must be a whole number of milliseconds' })
  PSP_SIMULATOR_HOLD_MS = 90_000;

  /**
   * How long a bank takes to answer a debit (SEPA Direct Debit, ACH) in simulated milliseconds:
   * 3 days by default, as the providers say; shorter to watch a debit settle in a local run. The
   * simulated clock moves with real time (and with `/__control/clock/advance`).
   */
  @IsWholeNumber({ min: 0, max: 30 * 24 * 60 * 60 * 1000, message: 'must be a whole number of milliseconds from 0 to 2592000000 (30 days)' })
  PSP_SIMULATOR_BANK_DEBIT_DELAY_MS = 3 * 24 * 60 * 60 * 1000;

  /**
   * Where the simulator keeps what Stripe keeps across restarts (objects, bank debits, the
   * simulated clock, idempotency keys for 24 h), relative to the working directory; `none`
   * keeps state in memory only.
   */
  @IsString()
  @Matches(/^\S+$/, { message: 'must be a file path (e.g. .cache/psp-simulator/state.jsonl) or none' })
  PSP_SIMULATOR_STATE_FILE = '.cache/psp-simulator/state.jsonl';

  /** Where PayPal's webhooks go: payment-orchestration's PayPal endpoint by default. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL, e.g. http://127.0.0.1:3002/v1/webhooks/paypal' })
  PAYPAL_SIMULATOR_WEBHOOK_URL?: string = 'http://127.0.0.1:3002/v1/webhooks/paypal';

  /** The webhook id PayPal signs with (payment-orchestration reads the same variable). */
  @IsOptional()
  @Matches(/^[A-Za-z0-9-]{1,64}$/, { message: 'must be a PayPal webhook id (letters, digits and "-")' })
  PAYPAL_WEBHOOK_ID?: string;

  /** The OAuth client accepted (payment-orchestration reads the same variables); the simulator's own by default. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,128}$/, { message: 'must be a PayPal client id' })
  PAYPAL_CLIENT_ID?: string;

  @IsOptional()
  @Matches(/^\S{1,256}$/, { message: 'must be a PayPal client secret (no spaces)' })
  PAYPAL_CLIENT_SECRET?: string;
}
