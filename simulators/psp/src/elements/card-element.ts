import type { FramedElement } from './serve-element';
import { elementPage } from './serve-element';

/**
 * The simulator's card element: what Stripe.js's card Element is, a page of the provider's own
 * origin that the site frames. The person types the card number, expiry and CVC here; the page
 * confirms the site's SetupIntent with them straight to the provider's API (publishable key and
 * client secret, `POST /v1/setup_intents/:id/confirm`) and tells the framing page only the outcome
 * (the SetupIntent's id and status, or the card's error) with postMessage to the origin it was
 * given. The site never sees the number: not in its pages, not in its requests.
 *
 * Messages: from the element `{ source: 'psp-card-element', type: 'ready' | 'change' | 'result', ... }`
 * (`change`: `{ complete, brand }`; `result`: `{ setupIntent: { id, status } }` or `{ error: { code, message } }`);
 * to it `{ type: 'confirm', clientSecret }`.
 */
export const CARD_ELEMENT_PATH = '/elements/card';
const SCRIPT_PATH = '/elements/card.js';

const PAGE = elementPage({
  title: 'Card details',
  style: `  .row { display: flex; gap: 12px; flex-wrap: wrap; }
  .field { display: flex; flex-direction: column; margin-bottom: 8px; }
  label { font-weight: 600; margin-bottom: 2px; }
  input { font: inherit; padding: 6px 8px; border: 1px solid #555; border-radius: 4px; min-width: 8em; }
  input:focus { outline: 3px solid #1b5fc1; outline-offset: 1px; }`,
  body: `<form id="card" novalidate>
  <div class="field"><label for="number">Card number</label><input id="number" inputmode="numeric" autocomplete="cc-number" maxlength="23"></div>
  <div class="row">
    <div class="field"><label for="expiry">Expiry (MM/YY)</label><input id="expiry" autocomplete="cc-exp" maxlength="7" placeholder="MM/YY"></div>
    <div class="field"><label for="cvc">Security code (CVC)</label><input id="cvc" inputmode="numeric" autocomplete="cc-csc" maxlength="4"></div>
  </div>
  <p id="error" role="alert"></p>
  <p class="note">Payment provider (simulator): the card details go to the provider only.</p>
</form>`,
  scriptPath: SCRIPT_PATH,
});

const SCRIPT = `'use strict';
(() => {
  const params = new URLSearchParams(location.search);
  const parentOrigin = params.get('origin');
  const key = params.get('key');
  const field = (id) => document.getElementById(id);
  const number = field('number'), expiry = field('expiry'), cvc = field('cvc'), error = field('error');
  const post = (message) => parent.postMessage(Object.assign({ source: 'psp-card-element' }, message), parentOrigin);
  const digits = (text) => text.replace(/[\\s-]/g, '');
  const luhn = (text) => {
    let sum = 0;
    for (let i = 0; i < text.length; i += 1) {
      let d = text.charCodeAt(text.length - 1 - i) - 48;
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  };
  const brand = (n) => /^4/.test(n) ? 'visa' : /^(5[1-5]|2[2-7])/.test(n) ? 'mastercard' : /^3[47]/.test(n) ? 'amex' : /^(6011|65)/.test(n) ? 'discover' : 'unknown';
  const expiryParts = () => /^\\s*(\\d{1,2})\\s*\\/\\s*(\\d{2}|\\d{4})\\s*$/.exec(expiry.value);
  const complete = () => {
    const n = digits(number.value);
    return /^\\d{12,19}$/.test(n) && luhn(n) && expiryParts() !== null && (brand(n) === 'amex' ? /^\\d{4}$/ : /^\\d{3}$/).test(cvc.value);
  };
  const changed = () => {
    error.textContent = '';
    post({ type: 'change', complete: complete(), brand: brand(digits(number.value)) });
  };
  for (const input of [number, expiry, cvc]) input.addEventListener('input', changed);
  field('card').addEventListener('submit', (event) => event.preventDefault());

  window.addEventListener('message', async (event) => {
    if (event.origin !== parentOrigin || event.source !== parent) return;
    const data = event.data;
    if (!data || data.type !== 'confirm' || typeof data.clientSecret !== 'string') return;
    const id = data.clientSecret.split('_secret_')[0];
    const parts = expiryParts();
    const body = new URLSearchParams({
      key,
      client_secret: data.clientSecret,
      'payment_method_data[type]': 'card',
      'payment_method_data[card][number]': digits(number.value),
      'payment_method_data[card][exp_month]': parts ? parts[1] : '',
      'payment_method_data[card][exp_year]': parts ? parts[2] : '',
      'payment_method_data[card][cvc]': cvc.value.trim(),
    });
    try {
      const answer = await fetch('/v1/setup_intents/' + encodeURIComponent(id) + '/confirm', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      const json = await answer.json();
      if (answer.ok) return post({ type: 'result', setupIntent: { id: json.id, status: json.status } });
      const failure = { code: (json.error && json.error.code) || 'card_error', message: (json.error && json.error.message) || 'The card was not accepted.' };
      error.textContent = failure.message;
      post({ type: 'result', error: failure });
    } catch (failure) {
      error.textContent = 'The payment provider cannot be reached.';
      post({ type: 'result', error: { code: 'network_error', message: 'The payment provider cannot be reached.' } });
    }
  });
  post({ type: 'ready' });
})();
`;

/** The card element, served by `serveElement`. */
export const CARD_ELEMENT: FramedElement = { pagePath: CARD_ELEMENT_PATH, scriptPath: SCRIPT_PATH, page: PAGE, script: SCRIPT, name: 'The card element' };
