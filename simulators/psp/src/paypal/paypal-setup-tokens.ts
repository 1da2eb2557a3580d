import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { PayPalSetupToken } from './paypal-objects';

/**
 * Saving a PayPal account without a purchase, as PayPal's Vault v3 does it: the merchant creates a
 * setup token (`POST /v3/vault/setup-tokens`, with the return and cancel URLs), sends the payer to
 * the token's `approve` link — here a page of the simulator standing for PayPal's sign-in and
 * consent — which sends the payer back to the return URL with `approval_token_id`; the merchant
 * then makes a payment token (the vault id) of the approved setup token, once.
 */
export const PAYPAL_APPROVAL_PATH = '/agreements/approve';

/** PayPal payer ids: 13 capital letters and digits (a letter first, so no run of digits looks like a card number). */
const PAYER_ID_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export function newPayerId(): string {
  const bytes = randomBytes(13);
  let id = 'P';
  for (const byte of bytes.subarray(1)) id += PAYER_ID_ALPHABET[byte % PAYER_ID_ALPHABET.length];
  return id;
}

export class SetupTokenError extends Error {
  constructor(
    readonly status: number,
    readonly issue: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const httpUrl = (value: unknown): value is string => {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};

/** `POST /v3/vault/setup-tokens`: `payment_source.paypal` with `experience_context.{return_url, cancel_url}`, `customer.merchant_customer_id`. */
export function createSetupToken(tokens: Map<string, PayPalSetupToken>, baseUrl: string, body: Record<string, unknown>): PayPalSetupToken {
  const source = isRecord(body.payment_source) && isRecord(body.payment_source.paypal) ? body.payment_source.paypal : undefined;
  if (!source)
    throw new SetupTokenError(
      400,
      'MISSING_REQUIRED_PARAMETER',
      'payment_source.paypal is required: the simulator vaults PayPal accounts.',
      '/payment_source/paypal',
    );
  const context = isRecord(source.experience_context) ? source.experience_context : {};
  if (!httpUrl(context.return_url) || !httpUrl(context.cancel_url))
    throw new SetupTokenError(
      400,
      'MISSING_REQUIRED_PARAMETER',
      'experience_context.return_url and cancel_url (http(s) URLs) are required: the payer comes back there.',
      '/payment_source/paypal/experience_context',
    );
  const customer = isRecord(body.customer) ? body.customer : {};
  const merchantCustomerId = typeof customer.merchant_customer_id === 'string' ? customer.merchant_customer_id.slice(0, 64) : undefined;
  const id = `${randomBytes(9).toString('hex').toUpperCase()}`;
  const token: PayPalSetupToken = {
    id,
    customer: { id: `cust_${randomBytes(6).toString('hex')}`, ...(merchantCustomerId ? { merchant_customer_id: merchantCustomerId } : {}) },
    status: 'PAYER_ACTION_REQUIRED',
    payment_source: {
      paypal: {
        ...(typeof source.description === 'string' ? { description: source.description.slice(0, 128) } : {}),
        usage_type: typeof source.usage_type === 'string' ? source.usage_type : 'MERCHANT',
        experience_context: {
          return_url: context.return_url,
          cancel_url: context.cancel_url,
          ...(typeof context.brand_name === 'string' ? { brand_name: context.brand_name.slice(0, 127) } : {}),
        },
      },
    },
    links: [
      { href: `${baseUrl}${PAYPAL_APPROVAL_PATH}?approval_session_id=${id}`, rel: 'approve', method: 'GET' },
      { href: `${baseUrl}/v3/vault/setup-tokens/${id}`, rel: 'self', method: 'GET' },
    ],
  };
  tokens.set(id, token);
  return token;
}

/** The payer, signed in at "PayPal", agrees (their e-mail becomes the account's) or cancels; the answer is the redirect back. */
export function decideSetupToken(tokens: Map<string, PayPalSetupToken>, id: string, decision: 'approve' | 'cancel', email: string): string {
  const token = tokens.get(id);
  if (!token || token.status !== 'PAYER_ACTION_REQUIRED')
    throw new SetupTokenError(404, 'INVALID_RESOURCE_ID', 'This approval is unknown or already answered.');
  const back = new URL(
    decision === 'approve' ? token.payment_source.paypal.experience_context.return_url : token.payment_source.paypal.experience_context.cancel_url,
  );
  back.searchParams.set('approval_token_id', id);
  back.searchParams.set('approval_session_id', id);
  if (decision === 'cancel') {
    token.status = 'CANCELED';
    return back.toString();
  }
  if (!/^[^\s@]{1,64}@[^\s@]{1,190}\.[A-Za-z]{2,}$/.test(email))
    throw new SetupTokenError(400, 'INVALID_PARAMETER_VALUE', 'Enter the e-mail of your PayPal account.');
  token.status = 'APPROVED';
  token.payment_source.paypal.email_address = email;
  token.payment_source.paypal.payer_id = newPayerId();
  return back.toString();
}

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** PayPal's approval page, as the simulator stands in for it: sign in with an e-mail, agree or cancel. */
export function sendApprovalPage(response: ServerResponse, token: PayPalSetupToken | undefined, problem?: string): void {
  const merchant = token?.payment_source.paypal.experience_context.brand_name ?? 'the merchant';
  const body = token
    ? `<h1>PayPal (simulator)</h1>
<p>${escape(merchant)} asks to save your PayPal account, to pay with it later without asking you again.</p>
${problem ? `<p role="alert">${escape(problem)}</p>` : ''}
<form method="post" action="${PAYPAL_APPROVAL_PATH}">
<input type="hidden" name="approval_session_id" value="${escape(token.id)}">
<p><label for="email">PayPal e-mail</label><br><input id="email" name="email" type="email" autocomplete="email" required></p>
<p><button type="submit" name="decision" value="approve">Agree and continue</button>
<button type="submit" name="decision" value="cancel" formnovalidate>Cancel and return</button></p>
</form>`
    : `<h1>PayPal (simulator)</h1><p role="alert">${escape(problem ?? 'This approval is unknown or already answered.')}</p>`;
  response.writeHead(token ? 200 : 404, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'",
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  });
  response.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>PayPal (simulator): save your account</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}input{font:inherit;padding:4px}button{font:inherit;padding:6px 12px;margin-right:8px}</style></head><body>${body}</body></html>`,
  );
}
