import { ConfigError, loadConfig } from '@pay/config';
import { WalletConfig } from '../config';

describe('WalletConfig: money movements', () => {
  it('defaults to 1.5 % + 25 minor units, a 15.00 dispute fee and the documented consumer groups', () => {
    expect(loadConfig('wallet', WalletConfig, {})).toMatchObject({
      PAYMENT_FEE_BPS: 150,
      PAYMENT_FEE_FIXED_MINOR: 25,
      PAYMENT_DISPUTE_FEE_MINOR: 1_500,
      PAYMENTS_LEDGER_CONSUMER_GROUP: 'wallet.payments-ledger',
      FUNDS_COMMANDS_CONSUMER_GROUP: 'wallet.funds-commands',
    });
  });

  it('reads whole numbers and group ids from the environment', () => {
    const config = loadConfig('wallet', WalletConfig, {
      PAYMENT_FEE_BPS: '290',
      PAYMENT_FEE_FIXED_MINOR: '0',
      PAYMENT_DISPUTE_FEE_MINOR: '0',
      FUNDS_COMMANDS_CONSUMER_GROUP: 'it.funds_1',
    });
    expect(config).toMatchObject({
      PAYMENT_FEE_BPS: 290,
      PAYMENT_FEE_FIXED_MINOR: 0,
      PAYMENT_DISPUTE_FEE_MINOR: 0,
      FUNDS_COMMANDS_CONSUMER_GROUP: 'it.funds_1',
    });
  });

  it('names each wrong variable and what is accepted', () => {
    let message = '';
    try {
      loadConfig('wallet', WalletConfig, {
        PAYMENT_FEE_BPS: '1.5',
        PAYMENT_FEE_FIXED_MINOR: '-1',
        PAYMENT_DISPUTE_FEE_MINOR: '2000000',
        PAYMENTS_LEDGER_CONSUMER_GROUP: 'a group',
      });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('PAYMENT_FEE_BPS must be a whole number of basis points from 0 to 10000');
    expect(message).toContain('PAYMENT_FEE_FIXED_MINOR must be a whole number of minor units');
    expect(message).toContain('PAYMENT_DISPUTE_FEE_MINOR must be a whole number of minor units');
    expect(message).toContain('PAYMENTS_LEDGER_CONSUMER_GROUP must be a Kafka consumer group id');
  });
});
