import { Client, Environment, LogLevel } from '@paypal/paypal-server-sdk';
import type { OAuthToken } from '@paypal/paypal-server-sdk';
import { Agent as HttpAgent } from 'node:http';
import type { AgentOptions } from 'node:http';
import { connect as connectTcp } from 'node:net';
import type { Socket } from 'node:net';
import { Agent as HttpsAgent } from 'node:https';
import { connect as connectTls } from 'node:tls';
import type { PayPalSettings } from './paypal.config';

/**
 * An https agent for the SDK that opens its connections to `apiUrl` instead of PayPal's host.
 * The SDK has no base-URL option (only its Sandbox and Production environments), but it takes an
 * `httpsAgent` (httpClientOptions): this agent keeps the SDK's requests, paths, headers and
 * OAuth as they are and only chooses where the bytes go — plain TCP for an http origin (the
 * simulator), TLS to that host for an https one (a proxy). ADR 0011 says why.
 */
function redirectingAgent(apiUrl: string): HttpsAgent {
  const target = new URL(apiUrl);
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  if (target.protocol === 'https:') {
    class TlsToTarget extends HttpsAgent {
      override createConnection(): Socket {
        return connectTls({ host: target.hostname, port, servername: target.hostname });
      }
    }
    return new TlsToTarget({ keepAlive: true });
  }
  // An http.Agent that says it speaks https: Node's request checks the agent's protocol, then writes HTTP/1.1 on the socket it gives.
  class TcpToTarget extends HttpAgent {
    constructor(options: AgentOptions) {
      super(options);
      (this as unknown as { protocol: string }).protocol = 'https:';
    }
    override createConnection(): Socket {
      return connectTcp({ host: target.hostname, port });
    }
  }
  return new TcpToTarget({ keepAlive: true }) as unknown as HttpsAgent;
}

/** The cached OAuth token, so that one PayPal refused (401 invalid_token) can be dropped: the SDK then fetches a new one. */
export interface PayPalTokenCache {
  current?: OAuthToken;
}

/**
 * The SDK client: OAuth client credentials (the SDK fetches a token and a new one when it
 * expires), PayPal's environment, the request timeout, and retries of lost connections and 5xx
 * for GET and POST (every POST of ours carries a PayPal-Request-Id, so a retry never pays twice).
 */
export function createPayPalClient(settings: PayPalSettings, tokens: PayPalTokenCache): Client {
  return new Client({
    environment: settings.environment === 'production' ? Environment.Production : Environment.Sandbox,
    timeout: settings.timeoutMs,
    clientCredentialsAuthCredentials: {
      oAuthClientId: settings.clientId,
      oAuthClientSecret: settings.clientSecret,
      oAuthOnTokenUpdate: (token) => {
        tokens.current = token;
      },
      // A minute's margin: a token about to expire is renewed before it is sent.
      oAuthClockSkew: 60,
    },
    httpClientOptions: {
      timeout: settings.timeoutMs,
      retryConfig: {
        maxNumberOfRetries: settings.maxRetries,
        retryOnTimeout: false,
        retryInterval: 1,
        maximumRetryWaitTime: 10,
        backoffFactor: 2,
        httpStatusCodesToRetry: [500, 502, 503, 504],
        httpMethodsToRetry: ['GET', 'POST'],
      },
      ...(settings.apiUrl === undefined ? {} : { httpsAgent: redirectingAgent(settings.apiUrl) }),
    },
    // The SDK's own logger would print requests and answers (tokens, payer data) to the console: silenced; ours logs what it needs, redacted.
    logging: { logger: { log: () => undefined }, logLevel: LogLevel.Error, maskSensitiveHeaders: true },
  });
}
