import { TEST_BANK_ACCOUNTS, TEST_INSTITUTION } from '../financial-connections/financial-connections';
import type { FramedElement } from './serve-element';
import { framedElement } from './serve-element';

/**
 * The simulator's stand-in for Stripe.js's Financial Connections flow (`collectFinancialConnectionsAccounts`,
 * a modal of Stripe's origin): a page of the simulator's origin that the site frames, where the
 * person "signs in at their bank" and picks the account to link. It links it to the site's
 * Session straight with the provider (publishable key and the Session's client secret) and tells
 * the framing page only the outcome, with postMessage to the origin it was given. The site never
 * sees the account's numbers.
 *
 * Messages: from the element `{ source: 'psp-financial-connections', type: 'ready' | 'result', ... }`
 * (`result`: `{ session: { id, accounts: [{ id, institution_name, display_name, last4 }] } }`,
 * `{ cancelled: true }` or `{ error: { code, message } }`); to it `{ type: 'collect', clientSecret }`.
 */
export const FINANCIAL_CONNECTIONS_ELEMENT_PATH = '/elements/financial-connections';
const SCRIPT_PATH = '/elements/financial-connections.js';

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The Financial Connections element, served by `serveElement`. */
export const FINANCIAL_CONNECTIONS_ELEMENT: FramedElement = framedElement({
  name: 'The Financial Connections element',
  pagePath: FINANCIAL_CONNECTIONS_ELEMENT_PATH,
  scriptPath: SCRIPT_PATH,
  source: 'psp-financial-connections',
  title: 'Link your bank account',
  style: `  fieldset { border: 1px solid #999; border-radius: 4px; margin: 0 0 8px; }
  button { font: inherit; padding: 6px 12px; margin-right: 8px; }`,
  body: `<form id="link" novalidate>
  <fieldset>
    <legend>Your accounts at ${escape(TEST_INSTITUTION)}</legend>
    ${Object.entries(TEST_BANK_ACCOUNTS)
      .map(
        ([key, account], i) =>
          `<div><input type="radio" name="account" id="account-${key}" value="${key}"${i === 0 ? ' checked' : ''}><label for="account-${key}">${escape(account.display_name)} •••• ${account.accountNumber.slice(-4)}</label></div>`,
      )
      .join('\n    ')}
  </fieldset>
  <p id="error" role="alert"></p>
  <button type="submit" id="submit" disabled>Link account</button><button type="button" id="cancel">Cancel</button>
  <p class="note">Payment provider (simulator): you sign in at your bank here; the site receives the linked account, never its numbers.</p>
</form>`,
  script: `  const submit = field('submit'), error = field('error');
  let clientSecret;
  fromParent((data) => {
    if (data.type !== 'collect' || typeof data.clientSecret !== 'string') return;
    clientSecret = data.clientSecret;
    submit.disabled = false;
  });
  field('cancel').addEventListener('click', () => post({ type: 'result', cancelled: true }));
  field('link').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!clientSecret) return;
    const chosen = document.querySelector('input[name="account"]:checked');
    const id = clientSecret.split('_secret_')[0];
    submit.disabled = true;
    try {
      const answer = await fetch('/v1/financial_connections/sessions/' + encodeURIComponent(id) + '/link_account', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ key, client_secret: clientSecret, account: chosen ? chosen.value : '' }),
      });
      const json = await answer.json();
      if (answer.ok) return post({ type: 'result', session: { id: json.id, accounts: json.accounts } });
      const failure = { code: (json.error && json.error.code) || 'link_failed', message: (json.error && json.error.message) || 'The account could not be linked.' };
      error.textContent = failure.message;
      submit.disabled = false;
      post({ type: 'result', error: failure });
    } catch (failure) {
      error.textContent = 'The payment provider cannot be reached.';
      submit.disabled = false;
      post({ type: 'result', error: { code: 'network_error', message: 'The payment provider cannot be reached.' } });
    }
  });
  post({ type: 'ready' });
`,
});
