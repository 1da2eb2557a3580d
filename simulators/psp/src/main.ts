import 'reflect-metadata';
import { ConfigError, loadConfig } from '@pay/config';
import { stopWhenSupervisorGone } from '@pay/platform';
import { startPspSimulator } from './psp-simulator';
import { PspSimulatorConfig } from './config';

/**
 * The PSP simulator as a process, for local runs and end-to-end tests: Stripe's API subset on
 * PORT (12111), signed webhooks to PSP_SIMULATOR_WEBHOOK_URL, the control API under /__control.
 */
async function main(): Promise<void> {
  const config = loadConfig('psp-simulator', PspSimulatorConfig);
  const simulator = await startPspSimulator({
    port: config.PORT,
    host: config.HOST,
    webhookUrl: config.PSP_SIMULATOR_WEBHOOK_URL,
    webhookSecret: config.STRIPE_WEBHOOK_SECRET,
    webhookEvents: config.PSP_SIMULATOR_WEBHOOK_EVENTS.split(','),
    apiKey: config.STRIPE_SECRET_KEY,
    holdMs: config.PSP_SIMULATOR_HOLD_MS,
    debitDelayMs: config.PSP_SIMULATOR_BANK_DEBIT_DELAY_MS,
    ...(config.PSP_SIMULATOR_STATE_FILE === 'none' ? {} : { stateFile: config.PSP_SIMULATOR_STATE_FILE }),
    paypal: {
      webhookUrl: config.PAYPAL_SIMULATOR_WEBHOOK_URL,
      ...(config.PAYPAL_WEBHOOK_ID ? { webhookId: config.PAYPAL_WEBHOOK_ID } : {}),
      ...(config.PAYPAL_CLIENT_ID ? { clientId: config.PAYPAL_CLIENT_ID } : {}),
      ...(config.PAYPAL_CLIENT_SECRET ? { clientSecret: config.PAYPAL_CLIENT_SECRET } : {}),
    },
  });
  process.stdout.write(
    `psp-simulator listening on ${simulator.url}, webhooks to ${config.PSP_SIMULATOR_WEBHOOK_URL ?? '(nowhere)'} (Stripe) and ${config.PAYPAL_SIMULATOR_WEBHOOK_URL ?? '(nowhere)'} (PayPal), state in ${config.PSP_SIMULATOR_STATE_FILE === 'none' ? 'memory' : config.PSP_SIMULATOR_STATE_FILE}\n`,
  );
  const stop = (): void => {
    void simulator.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Under `npm start`: stops with the supervisor, also when it was SIGKILLed.
  stopWhenSupervisorGone((line) => void process.stderr.write(`psp-simulator: ${line}\n`));
}

main().catch((error: unknown) => {
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `psp-simulator: cannot start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
