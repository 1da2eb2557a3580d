import { IsOptional } from 'class-validator';
import { STRIPE_SIMULATOR_API, StripeApiConfig, stripeApiLocation } from './stripe-api.config';
import { configProblems, loadConfig } from './validate-config';

/** A service's config as wallet's and payment-orchestration's are: its own key, the shared location. */
class ServiceWithStripe extends StripeApiConfig {
  @IsOptional()
  STRIPE_SECRET_KEY?: string;
}

const load = (env: NodeJS.ProcessEnv) => loadConfig('some-service', ServiceWithStripe, env);
const problems = (env: NodeJS.ProcessEnv): string => configProblems('some-service', ServiceWithStripe, env);

describe('where the Stripe SDK sends its requests', () => {
  it('reads host, port and protocol, the port as a number', () => {
    const config = load({ STRIPE_API_HOST: 'stripe-proxy.internal', STRIPE_API_PORT: '8443', STRIPE_API_PROTOCOL: 'https' });
    expect(stripeApiLocation(config, false)).toEqual({ host: 'stripe-proxy.internal', port: 8443, protocol: 'https' });
  });

  it("names only what is set, or the simulator's for what is not set when it talks to the simulator", () => {
    expect(stripeApiLocation(load({}), false)).toEqual({});
    expect(stripeApiLocation(load({}), true)).toEqual(STRIPE_SIMULATOR_API);
    expect(stripeApiLocation(load({ STRIPE_API_PORT: '9000' }), true)).toEqual({ ...STRIPE_SIMULATOR_API, port: 9000 });
  });

  it('names each bad variable with what it accepts', () => {
    const message = problems({ STRIPE_API_HOST: 'not a host', STRIPE_API_PORT: '70000', STRIPE_API_PROTOCOL: 'ftp' });
    expect(message).toContain('STRIPE_API_HOST must be a host name or address, e.g. api.stripe.com or 127.0.0.1');
    expect(message).toContain('STRIPE_API_PORT must be a whole number between 1 and 65535 (TCP port)');
    expect(message).toContain('STRIPE_API_PROTOCOL must be http or https');
  });

  it('never sends a live key over http', () => {
    expect(problems({ STRIPE_SECRET_KEY: 'rk_live_abc', STRIPE_API_PROTOCOL: 'http' })).toContain(
      'STRIPE_API_PROTOCOL must be https with a live STRIPE_SECRET_KEY',
    );
    expect(load({ STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_API_PROTOCOL: 'http' }).STRIPE_API_PROTOCOL).toBe('http');
  });
});
