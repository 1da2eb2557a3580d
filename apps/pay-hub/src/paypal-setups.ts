import type { PayHubConfig } from './config';

export const SETUP_TOKEN_ID = /^[A-Za-z0-9_-]{6,64}$/;

export class PayPalSetupProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the wallet's `POST …/payment-methods/paypal-accounts` takes: the account as PayPal vaulted it. */
export interface VaultedPayPalAccount {
  payerId: string;
  email: string;
  vaultToken: string;
}

interface SetupToken {
  id: string;
  status: string;
  customer?: { merchant_customer_id?: string };
  links?: Array<{ rel: string; href: string }>;
}

/**
 * Saving a PayPal account as PayPal's Vault v3 has it done, without a purchase: the hub creates a
 * setup token for the signed-in person (its return URL the methods page), the page sends the
 * person to PayPal's approval page, PayPal sends them back with the token approved, and the hub
 * makes a payment token (the vault id) of it and saves the account PayPal names to the wallet.
 * The payer id and e-mail come from PayPal, not from the page.
 */
export class PayPalSetups {
  private accessToken: { value: string; until: number } | undefined;

  private constructor(
    private readonly apiUrl: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly returnUrl: string,
    private readonly call: (url: string, init: RequestInit) => Promise<Response>,
  ) {}

  /** Undefined when the hub saves no PayPal accounts (PAYPAL_CLIENT_ID unset). */
  static from(config: PayHubConfig, hubOrigin: string, call: (url: string, init: RequestInit) => Promise<Response>): PayPalSetups | undefined {
    if (!config.PAYPAL_API_URL || !config.PAYPAL_CLIENT_ID || !config.PAYPAL_CLIENT_SECRET) return undefined;
    return new PayPalSetups(config.PAYPAL_API_URL.replace(/\/$/, ''), config.PAYPAL_CLIENT_ID, config.PAYPAL_CLIENT_SECRET, `${hubOrigin}/methods`, call);
  }

  /** A setup token for the person, and where to send them to approve it. */
  async begin(personId: string): Promise<{ approveUrl: string }> {
    const token = await this.request<SetupToken>('POST', '/v3/vault/setup-tokens', {
      customer: { merchant_customer_id: personId },
      payment_source: {
        paypal: {
          description: 'Pay: pay in facebook, instagram, messenger and whatsapp',
          usage_type: 'MERCHANT',
          experience_context: { brand_name: 'Pay', return_url: `${this.returnUrl}?paypal=approved`, cancel_url: `${this.returnUrl}?paypal=canceled` },
        },
      },
    });
    const approve = token.links?.find((link) => link.rel === 'approve')?.href;
    if (!approve) throw new Error('PayPal answered a setup token without an approve link');
    return { approveUrl: approve };
  }

  /**
   * The account the person approved, vaulted: another person's setup token is not found; one not
   * approved, or vaulted already, is a conflict. The PayPal-Request-Id is the setup token's, so
   * PayPal never vaults one approval twice.
   */
  async vault(personId: string, setupTokenId: string): Promise<VaultedPayPalAccount> {
    const setup = await this.request<SetupToken>('GET', `/v3/vault/setup-tokens/${encodeURIComponent(setupTokenId)}`).catch((error: unknown) => {
      if (error instanceof PayPalSetupProblem && error.status === 404) return undefined;
      throw error;
    });
    if (!setup || setup.customer?.merchant_customer_id !== personId) throw new PayPalSetupProblem(404, 'NOT_FOUND', 'no such PayPal approval');
    // Vaulted once: the wallet would keep a second copy of the account (it does not merge them).
    if (setup.status === 'VAULTED') throw new PayPalSetupProblem(409, 'PAYPAL_ALREADY_SAVED', 'this PayPal approval was used already: connect PayPal again');
    if (setup.status !== 'APPROVED') throw new PayPalSetupProblem(409, 'PAYPAL_NOT_APPROVED', 'PayPal has not approved this account: connect PayPal again');
    const vaulted = await this.request<{ id: string; payment_source?: { paypal?: { email_address?: string; account_id?: string } } }>(
      'POST',
      '/v3/vault/payment-tokens',
      { payment_source: { token: { id: setupTokenId, type: 'SETUP_TOKEN' } } },
      `pay-hub-vault-${setupTokenId}`,
    ).catch((error: unknown) => {
      if (error instanceof PayPalSetupProblem && error.status === 422)
        throw new PayPalSetupProblem(409, 'PAYPAL_ALREADY_SAVED', 'this PayPal approval was used already: connect PayPal again');
      throw error;
    });
    const account = vaulted.payment_source?.paypal;
    if (!account?.email_address || !account.account_id) throw new Error('PayPal vaulted the account without its payer id or e-mail');
    return { payerId: account.account_id, email: account.email_address, vaultToken: vaulted.id };
  }

  private async token(): Promise<string> {
    if (this.accessToken && this.accessToken.until > Date.now()) return this.accessToken.value;
    const answer = await this.call(`${this.apiUrl}/v1/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    if (!answer.ok) throw new Error(`PayPal refused the hub's client credentials (HTTP ${answer.status})`);
    const body = (await answer.json()) as { access_token: string; expires_in: number };
    // Renewed a minute before PayPal ends it.
    this.accessToken = { value: body.access_token, until: Date.now() + Math.max(0, body.expires_in - 60) * 1000 };
    return body.access_token;
  }

  private async request<T>(method: string, path: string, body?: unknown, requestId?: string): Promise<T> {
    const send = async (): Promise<Response> =>
      this.call(`${this.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await this.token()}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(requestId ? { 'paypal-request-id': requestId } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    let answer = await send();
    // A token PayPal no longer accepts (rotated, or PayPal restarted): another one, once.
    if (answer.status === 401) {
      this.accessToken = undefined;
      answer = await send();
    }
    if (answer.ok) return (await answer.json()) as T;
    if (answer.status === 404 || answer.status === 422) throw new PayPalSetupProblem(answer.status, 'PAYPAL_REFUSED', `PayPal answered ${answer.status}`);
    throw new Error(`PayPal answered HTTP ${answer.status} to ${method} ${path}`);
  }
}
