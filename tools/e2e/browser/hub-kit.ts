/**
 * The Pay Hub against the real services for browser tests: the payments platform of the e2e kit
 * (wallet, payment-orchestration, PSP simulator, in this process), history-projection, and the
 * hub's server serving the built web app (`npm run build`), opened as http://localhost:<port>
 * (WebAuthn needs a domain as relying party id: localhost, not 127.0.0.1).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig } from '@pay/config';
import { Topics } from '@pay/contracts';
import type { HistoryProjectionConfig } from '@pay/history-projection/tools';
import { historyProjectionService } from '@pay/history-projection/tools';
import type { RunningPayHub } from '@pay/pay-hub/tools';
import { PayHubConfig, startPayHub } from '@pay/pay-hub/tools';
import type { RunningService } from '@pay/platform';
import { PAYPAL_SIMULATOR_DEFAULTS } from '@pay/psp-simulator';
import { createService } from '@pay/platform';
import { dropSchema, testDatabaseUrl, testKafkaCredentials, uniqueName } from '@pay/testing';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { PaymentsPlatform, SupportOnPlatform } from '../e2e-kit';
import { freePort, startGroupAtEnd, startPaymentsPlatform, startSupport } from '../e2e-kit';

const ROOT = resolve(__dirname, '../../..');
export const WEB_APP_DIR = resolve(ROOT, 'dist/apps/pay-hub/web');
/** Screenshots and downloads of a run (CI keeps reports/ as artefacts). */
export const ARTEFACTS_DIR = resolve(ROOT, 'reports/browser');

/** A full-page screenshot of `page` as reports/browser/<name>.png. */
export const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(ARTEFACTS_DIR, `${name}.png`), fullPage: true });

/**
 * Keeps each test's pages as they were at its end (a failure's artefact): a screenshot and the
 * browser's console as reports/browser/last-<name>.*. Called in a describe block; answers `watch`,
 * given each page as it opens.
 */
export function keepLastPages(): (page: Page, name: string) => void {
  const open: Array<{ name: string; page: Page; lines: string[] }> = [];
  afterEach(async () => {
    for (const { name, page, lines } of open.splice(0)) {
      if (page.isClosed()) continue;
      await shot(page, `last-${name}`).catch(() => undefined);
      await writeFile(join(ARTEFACTS_DIR, `last-${name}.console.txt`), lines.join('\n')).catch(() => undefined);
    }
  });
  return (page, name) => {
    const lines: string[] = [];
    page.on('console', (message) => lines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => lines.push(`pageerror: ${error.message}`));
    open.push({ name, page, lines });
  };
}

export interface HubStack {
  platform: PaymentsPlatform;
  history: RunningService<HistoryProjectionConfig>;
  historySchema: string;
  hub: RunningPayHub;
  /** The support service (with `{ support: true }`), chat open in the US in facebook and messenger, refunding through orchestration. */
  support?: SupportOnPlatform;
  /** http://localhost:<port> */
  hubUrl: string;
  browser: Browser;
  stop(): Promise<void>;
}

export async function startHubStack(
  chromiumPath: string,
  options: { support?: boolean; hubLog?: (line: string) => void; logLevel?: string } = {},
): Promise<HubStack> {
  if (!existsSync(resolve(WEB_APP_DIR, 'index.html'))) throw new Error(`${WEB_APP_DIR} has no web app: run \`npm run build\` first`);
  await mkdir(ARTEFACTS_DIR, { recursive: true });
  const port = await freePort();
  const hubUrl = `http://localhost:${port}`;
  const platform = await startPaymentsPlatform({
    walletEnv: { WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_RP_NAME: 'Pay (browser test)', WEBAUTHN_ORIGINS: hubUrl },
    inProcessOrchestration: !options.support,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
  // With support: it refunds with a key of its own, which orchestration trusts within its grant (payments:refund).
  const support = options.support ? await startSupport(platform, { apps: ['facebook', 'messenger'], refunds: true }) : undefined;
  const historySchema = uniqueName('e2e_hub_history');
  const historyGroup = uniqueName('history-projection.e2e-hub');
  for (const topic of [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]) await startGroupAtEnd(historyGroup, topic);
  const history = await createService<HistoryProjectionConfig>(historyProjectionService, {
    ...platform.commonEnv,
    ...testKafkaCredentials('history-projection'),
    DB_SCHEMA: historySchema,
    OUTBOX_RELAY_NAME: 'e2e',
    AUTH_JWKS: JSON.stringify(platform.idp.jwks),
    HISTORY_CONSUMER_GROUP: historyGroup,
  });
  // The hub's sessions live in a schema of the run's own, migrated by the hub at start.
  const hubSchema = uniqueName('e2e_hub_sessions');
  const config = loadConfig('pay-hub', PayHubConfig, {
    NODE_ENV: 'test',
    PORT: String(port),
    DATABASE_URL: testDatabaseUrl(),
    DB_SCHEMA: hubSchema,
    HUB_PUBLIC_URL: hubUrl,
    WALLET_URL: platform.wallet.url,
    ORCHESTRATION_URL: platform.orchestrationUrl,
    HISTORY_URL: history.url,
    ...(support ? { SUPPORT_URL: support.url } : {}),
    HUB_SIGN_IN: 'development',
    // The test's identity provider signs the development tokens (its key is not exportable): see mintDevToken.
    HUB_DEV_SIGNING_JWK: '{"kty":"EC","d":"unused"}',
    // Its own key attests the mandates of the bank accounts it saves (the wallet trusts it within its grant).
    HUB_SERVICE_SIGNING_JWK: JSON.stringify(platform.hubKey.privateJwk),
    AUTH_ISSUER: platform.idp.issuer,
    AUTH_AUDIENCE: platform.idp.audience,
    HUB_STATIC_DIR: WEB_APP_DIR,
    // Cards are added through the simulator's SetupIntents and its stand-in of Stripe.js (a script and card frame of its own origin).
    STRIPE_SECRET_KEY: 'sk_test_pay_hub',
    STRIPE_PUBLISHABLE_KEY: 'pk_test_pay_hub',
    STRIPE_API_HOST: platform.simulator.host,
    STRIPE_API_PORT: String(platform.simulator.port),
    STRIPE_API_PROTOCOL: 'http',
    STRIPE_JS_URL: `${platform.simulator.url}/v3`,
    // PayPal accounts through the simulator's Vault setup tokens and its approval page.
    PAYPAL_API_URL: platform.simulator.url,
    PAYPAL_CLIENT_ID: PAYPAL_SIMULATOR_DEFAULTS.clientId,
    PAYPAL_CLIENT_SECRET: PAYPAL_SIMULATOR_DEFAULTS.clientSecret,
  });
  const hub = await startPayHub({
    config,
    mintDevToken: (claims) => platform.idp.signTestToken(claims, { expiresIn: 3600 }),
    ...(options.hubLog ? { log: options.hubLog } : {}),
  });
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  return {
    platform,
    history,
    historySchema,
    hub,
    ...(support ? { support } : {}),
    hubUrl,
    browser,
    async stop() {
      await browser.close().catch(() => undefined);
      await hub.close().catch(() => undefined);
      await dropSchema(testDatabaseUrl(), hubSchema).catch(() => undefined);
      await history.app.close().catch(() => undefined);
      await support?.stop().catch(() => undefined);
      await dropSchema(testDatabaseUrl(), historySchema).catch(() => undefined);
      await platform.stop();
    },
  };
}
