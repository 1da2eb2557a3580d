import { ConfigError, loadConfig, STRIPE_WEBHOOK_EVENTS } from '@pay/config';
import { PspSimulatorConfig } from './config';

const load = (env: NodeJS.ProcessEnv): PspSimulatorConfig => loadConfig('psp-simulator', PspSimulatorConfig, env);

function problems(env: NodeJS.ProcessEnv): string {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return '';
}

describe("the simulator's bank debit delay", () => {
  it('is 3 days unless PSP_SIMULATOR_BANK_DEBIT_DELAY_MS says otherwise', () => {
    expect(load({}).PSP_SIMULATOR_BANK_DEBIT_DELAY_MS).toBe(259_200_000);
    expect(load({ PSP_SIMULATOR_BANK_DEBIT_DELAY_MS: '60000' }).PSP_SIMULATOR_BANK_DEBIT_DELAY_MS).toBe(60_000);
    expect(load({ PSP_SIMULATOR_BANK_DEBIT_DELAY_MS: '0' }).PSP_SIMULATOR_BANK_DEBIT_DELAY_MS).toBe(0);
  });

  it('refuses what is not a whole number of milliseconds up to 30 days, naming the variable', () => {
    for (const bad of ['3d', '-1', '1.5', '2592000001'])
      expect(problems({ PSP_SIMULATOR_BANK_DEBIT_DELAY_MS: bad })).toMatch(/PSP_SIMULATOR_BANK_DEBIT_DELAY_MS.*30 days/);
  });
});

describe("the simulator's webhook subscription", () => {
  it('is every event type unless PSP_SIMULATOR_WEBHOOK_EVENTS lists some', () => {
    expect(load({}).PSP_SIMULATOR_WEBHOOK_EVENTS).toBe('*');
    expect(load({ PSP_SIMULATOR_WEBHOOK_EVENTS: 'payment_intent.succeeded,charge.dispute.closed' }).PSP_SIMULATOR_WEBHOOK_EVENTS).toBe(
      'payment_intent.succeeded,charge.dispute.closed',
    );
  });

  it("takes payment-orchestration's subscription as npm start gives it", () => {
    const events = STRIPE_WEBHOOK_EVENTS.join(',');
    expect(load({ PSP_SIMULATOR_WEBHOOK_EVENTS: events }).PSP_SIMULATOR_WEBHOOK_EVENTS).toBe(events);
  });

  it('refuses what is not * or a comma-separated list of event types, naming the variable', () => {
    for (const bad of ['payment_intent', 'payment_intent.succeeded,', 'payment_intent.succeeded, refund.updated', '*,refund.updated', 'https://x'])
      expect(problems({ PSP_SIMULATOR_WEBHOOK_EVENTS: bad })).toMatch(/PSP_SIMULATOR_WEBHOOK_EVENTS.*comma-separated list of Stripe event types/);
  });
});
