import { ConfigError, loadConfig } from '@pay/config';
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
