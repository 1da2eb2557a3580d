import './instrument';
import { ConfigError, loadConfig } from '@pay/config';
import { currentTelemetry } from '@pay/observability';
import { PayHubConfig } from './config';
import { devTokenMinter } from './dev-tokens';
import { startPayHub } from './hub-server';

async function main(): Promise<void> {
  const config = loadConfig('pay-hub', PayHubConfig);
  const mintDevToken =
    config.HUB_SIGN_IN === 'development'
      ? await devTokenMinter(config.HUB_DEV_SIGNING_JWK!, config.AUTH_ISSUER, { audience: config.AUTH_AUDIENCE, agentAudience: config.AUTH_AGENT_AUDIENCE })
      : undefined;
  const hub = await startPayHub({ config, mintDevToken });
  process.stderr.write(`pay-hub: listening on ${config.HUB_PUBLIC_URL} (sign-in: ${config.HUB_SIGN_IN})\n`);
  // Spans and metrics still buffered go to the collector before the process ends.
  const stop = (): void =>
    void hub
      .close()
      .then(() => currentTelemetry()?.shutdown())
      .then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`pay-hub: ${error instanceof ConfigError ? error.message : `failed to start: ${(error as Error).message}`}\n`);
  process.exit(1);
});
