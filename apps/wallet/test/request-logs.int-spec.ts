import { uniqueName } from '@pay/testing';
import { serviceLogs } from '@pay/testing/service-logs';
import { findSecrets } from './log-secrets';
import type { WalletUnderTest } from './wallet-test-kit';
import { dropWalletSchema, startWallet } from './wallet-test-kit';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('@pay/testing/service-logs')>('@pay/testing/service-logs').observabilityKeepingLogs());

const CARD = '4111111111111111';

/**
 * A card number in a query string is refused; whether it reaches the log is the platform's
 * request logger's business. Today it does (see the report): pino-http logs the request as
 * child-logger bindings, which bypass the scrubbing `formatters.log` of createLogger, so the
 * raw URL and the Authorization header (a bearer token) are logged in clear.
 */
describe('wallet: request logs', () => {
  let wallet: WalletUnderTest;
  let token = '';
  const person = uniqueName('logs');

  beforeAll(async () => {
    wallet = await startWallet();
    const caller = await wallet.person(person);
    token = caller.token!;
    expect((await caller.post(`/v1/wallets/${person}`, { country: 'US' })).status).toBe(201);
  });

  afterAll(async () => {
    await wallet?.stop();
    if (wallet) await dropWalletSchema(wallet.schema);
  });

  it('refuses a card number in a query string, naming the parameter only', async () => {
    const caller = await wallet.person(person);
    const response = await caller.get(`/v1/wallets/${person}/payment-methods?includeRemoved=${CARD}`);
    expect(response).toEqual({
      status: 400,
      body: {
        code: 'CARD_NUMBER_REFUSED',
        field: 'query.includeRemoved',
        message:
          'query.includeRemoved contains what looks like a card number; card numbers are never accepted here: add a card through the payment provider and send its token',
      },
    });
  });

  // Passes while the platform bug exists; when it is fixed this fails: then make it a plain `it`.
  it('logs neither the card number of a refused query string nor bearer tokens (platform request logger)', () => {
    const logs = serviceLogs.join('');
    expect(findSecrets(logs, {})).toEqual([]);
    expect(logs).not.toContain(token.split('.')[2]);
  });
});
