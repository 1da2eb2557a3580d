import type { ServerResponse } from 'node:http';
import type { FramedElement } from './serve-element';
import { framedElement } from './serve-element';

/**
 * The simulator's stand-in for Stripe.js (`https://js.stripe.com/v3`), the subset a site uses to
 * save a card: `Stripe(publishableKey)`, `stripe.elements()`, `elements.create('card')`,
 * `card.mount(selectorOrElement)`, `card.on('ready' | 'change' | 'focus' | 'blur', handler)`,
 * `card.off`, `card.focus`, `card.clear`, `card.unmount`, `card.destroy`, and
 * `stripe.confirmCardSetup(clientSecret, { payment_method: { card, billing_details? } })`, which
 * resolves to `{ setupIntent }` or `{ error: { type, code, decline_code?, message, ... } }` as
 * Stripe.js's does. A misuse (a secret key, another Element type, an unmounted card) throws an
 * `IntegrationError`, as Stripe.js does.
 *
 * As with Stripe's, the card field is an iframe of the provider's origin that `mount` puts in the
 * site's page (`/v3/elements/card`); the site's page never holds the number. `confirmCardSetup`
 * asks that frame to confirm the SetupIntent: the frame sends the card straight to the provider
 * (`POST /v1/setup_intents/:id/confirm`, publishable key and client secret, the card as
 * `payment_method_data`, from which the provider makes the PaymentMethod, as Stripe.js's
 * confirmation does) and hands the script only the answer. How the script and its frame talk
 * (postMessage, `source: 'stripe-js-stand-in'`) is private to them, as Stripe's is.
 */
export const STRIPE_JS_PATH = '/v3';
const CARD_FRAME_PATH = '/v3/elements/card';
const CARD_FRAME_SCRIPT_PATH = '/v3/elements/card.js';
/** The `source` of the card frame's messages, which the script takes from its frames alone. */
const FRAME_SOURCE = 'stripe-js-stand-in';

/** The script a site loads with `<script src="<origin>/v3">`: defines `window.Stripe`. */
const STRIPE_JS = String.raw`'use strict';
(() => {
  if (window.Stripe) return;
  const script = document.currentScript || document.querySelector('script[src$="/v3"]');
  const providerOrigin = new URL(script ? script.src : location.href).origin;
  const SOURCE = ${JSON.stringify(FRAME_SOURCE)};
  const EVENTS = ['ready', 'change', 'focus', 'blur'];
  class IntegrationError extends Error {
    constructor(message) { super(message); this.name = 'IntegrationError'; }
  }
  let frames = 0;

  function Stripe(publishableKey) {
    if (typeof publishableKey !== 'string') throw new IntegrationError('Invalid value for Stripe(): apiKey should be a string. You specified: ' + typeof publishableKey + '.');
    if (/^(sk|rk)_/.test(publishableKey)) throw new IntegrationError('You should not use your secret key with Stripe.js. Please pass a publishable key instead.');
    if (!/^pk_(test|live)_\w+$/.test(publishableKey)) throw new IntegrationError('Invalid API Key provided: ' + publishableKey.slice(0, 8) + '…');
    const cards = new Set();

    function createCard() {
      const handlers = new Map(EVENTS.map((name) => [name, new Set()]));
      const pending = new Map();
      let iframe, destroyed = false, requests = 0;
      const emit = (name, event) => handlers.get(name).forEach((handler) => handler(event));
      const post = (message) => iframe && iframe.contentWindow && iframe.contentWindow.postMessage(message, providerOrigin);
      const card = {
        mount(target) {
          if (destroyed) throw new IntegrationError('This Element has already been destroyed. Please create a new one.');
          if (iframe) throw new IntegrationError('This Element is already mounted. Use unmount() to unmount the Element before re-mounting.');
          const parentNode = typeof target === 'string' ? document.querySelector(target) : target;
          if (!parentNode || !(parentNode instanceof HTMLElement)) throw new IntegrationError('The selector you specified (' + String(target) + ') applies to no DOM elements that are currently on the page.');
          const url = new URL('/v3/elements/card', providerOrigin);
          url.searchParams.set('origin', location.origin);
          url.searchParams.set('key', publishableKey);
          iframe = document.createElement('iframe');
          iframe.name = '__privateStripeFrame' + (frames += 1);
          iframe.title = 'Secure card payment input frame';
          iframe.setAttribute('allow', 'payment *');
          iframe.src = url.toString();
          iframe.style.border = '0';
          iframe.style.width = '100%';
          iframe.style.display = 'block';
          iframe.style.height = '9em';
          parentNode.appendChild(iframe);
          cards.add(card);
        },
        unmount() {
          if (iframe) iframe.remove();
          iframe = undefined;
          cards.delete(card);
          for (const [, settle] of pending) settle({ error: { type: 'validation_error', code: 'element_unmounted', message: 'The card Element was removed before the card was confirmed.' } });
          pending.clear();
        },
        destroy() { card.unmount(); destroyed = true; },
        on(name, handler) {
          if (!handlers.has(name)) throw new IntegrationError('This stand-in of Stripe.js emits ' + EVENTS.join(', ') + ' on the card Element, not ' + name + '.');
          handlers.get(name).add(handler);
          return card;
        },
        off(name, handler) { if (handlers.has(name)) handlers.get(name).delete(handler); return card; },
        focus() { post({ type: 'focus' }); },
        blur() { post({ type: 'blur' }); },
        clear() { post({ type: 'clear' }); },
        update() {},
        /** Private to this script: the frame's messages, and the confirmation it is asked for. */
        _frameWindow() { return iframe && iframe.contentWindow; },
        _receive(message) {
          if (message.type === 'resize' && typeof message.height === 'number' && iframe) iframe.style.height = Math.ceil(message.height) + 'px';
          else if (message.type === 'ready') emit('ready', { elementType: 'card' });
          else if (message.type === 'focus' || message.type === 'blur') emit(message.type, { elementType: 'card' });
          else if (message.type === 'change') emit('change', Object.assign({ elementType: 'card', value: { postalCode: '' } }, message.event));
          else if (message.type === 'confirm-result' && pending.has(message.requestId)) {
            const settle = pending.get(message.requestId);
            pending.delete(message.requestId);
            settle(message.result);
          }
        },
        _confirmSetup(clientSecret, billingDetails) {
          if (!iframe) throw new IntegrationError('We could not retrieve data from the specified Element. Please make sure the Element you are attempting to use is still mounted.');
          const requestId = (requests += 1);
          return new Promise((settle) => {
            pending.set(requestId, settle);
            post({ type: 'confirm-card-setup', requestId, clientSecret, billingDetails });
          });
        },
      };
      return card;
    }

    window.addEventListener('message', (event) => {
      const message = event.data;
      if (event.origin !== providerOrigin || !message || message.source !== SOURCE) return;
      for (const card of cards) if (card._frameWindow() === event.source) card._receive(message);
    });

    return {
      elements() {
        const created = new Map();
        return {
          create(type) {
            if (type !== 'card') throw new IntegrationError('This stand-in of Stripe.js creates the card Element only, not ' + String(type) + '.');
            if (created.has(type)) throw new IntegrationError('Can only create one Element of type card.');
            const card = createCard();
            created.set(type, card);
            return card;
          },
          getElement(type) { return created.get(type) || null; },
        };
      },
      async confirmCardSetup(clientSecret, data) {
        if (typeof clientSecret !== 'string' || !/^seti_[A-Za-z0-9]+_secret_[A-Za-z0-9]+$/.test(clientSecret))
          throw new IntegrationError('Invalid value for confirmCardSetup intent secret: value should be a client_secret string. You specified: ' + typeof clientSecret + '.');
        const method = data && data.payment_method;
        const card = method && method.card;
        if (!card || typeof card._confirmSetup !== 'function')
          throw new IntegrationError('Invalid value for confirmCardSetup: payment_method.card should be a card Element created by this Stripe instance.');
        const billing = method.billing_details;
        if (billing !== undefined && (billing === null || typeof billing !== 'object'))
          throw new IntegrationError('Invalid value for confirmCardSetup: payment_method.billing_details should be an object.');
        return card._confirmSetup(clientSecret, billing === undefined ? undefined : JSON.parse(JSON.stringify(billing)));
      },
    };
  }
  window.Stripe = Stripe;
})();
`;

/**
 * The card field Stripe.js frames, served by `serveElement` (only to the origin it names, with a
 * publishable key): the provider's own page, where the number is typed. Its script validates as the
 * person types (Stripe's change events: `empty`, `complete`, `brand`, and `error` as a
 * `validation_error`), and on the framing script's request confirms the SetupIntent with the card,
 * answering only the provider's answer.
 */
export const STRIPE_JS_CARD_FRAME: FramedElement = framedElement({
  name: "Stripe.js's card frame",
  pagePath: CARD_FRAME_PATH,
  scriptPath: CARD_FRAME_SCRIPT_PATH,
  source: FRAME_SOURCE,
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
  <p class="note">Payment provider (simulator): the card details go to the provider only.</p>
</form>
<section id="challenge" hidden aria-labelledby="challenge-title">
  <h2 id="challenge-title">Confirm this card with your bank (3-D Secure, test)</h2>
  <p>Your bank asks you to confirm that you are saving this card.</p>
  <button type="button" id="challenge-complete">Complete authentication</button>
  <button type="button" id="challenge-fail">Fail authentication</button>
</section>`,
  script: String.raw`  const number = field('number'), expiry = field('expiry'), cvc = field('cvc');
  const digits = (text) => text.replace(/[\s-]/g, '');
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
  const fullLength = (n) => brand(n) === 'amex' ? 15 : 16;
  const expiryParts = () => {
    const match = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(expiry.value);
    if (!match) return undefined;
    const month = Number(match[1]), year = match[2].length === 2 ? 2000 + Number(match[2]) : Number(match[2]);
    return month >= 1 && month <= 12 ? { month, year } : undefined;
  };
  const inThePast = (parts) => {
    const now = new Date();
    return parts.year < now.getFullYear() || (parts.year === now.getFullYear() && parts.month < now.getMonth() + 1);
  };
  const error = (code, message) => ({ type: 'validation_error', code, message });
  /** Stripe's wording for what is wrong, or, when asked to confirm, also for what is missing. */
  const problem = (confirming) => {
    const n = digits(number.value), parts = expiryParts();
    if (n.length >= fullLength(n) && (!/^\d+$/.test(n) || !luhn(n))) return error('invalid_number', 'Your card number is invalid.');
    if (parts && inThePast(parts)) return error('invalid_expiry_year_past', "Your card's expiration year is in the past.");
    if (expiry.value.trim().length >= 5 && !parts) return error('invalid_expiry_month', "Your card's expiration date is invalid.");
    if (!confirming) return undefined;
    if (n.length < fullLength(n)) return error('incomplete_number', 'Your card number is incomplete.');
    if (!parts) return error('incomplete_expiry', "Your card's expiration date is incomplete.");
    if (!(brand(n) === 'amex' ? /^\d{4}$/ : /^\d{3}$/).test(cvc.value.trim())) return error('incomplete_cvc', "Your card's security code is incomplete.");
    return undefined;
  };
  const changed = () => {
    const n = digits(number.value);
    post({
      type: 'change',
      event: {
        empty: !number.value && !expiry.value && !cvc.value,
        complete: problem(true) === undefined,
        brand: brand(n),
        error: problem(false),
      },
    });
  };
  for (const input of [number, expiry, cvc]) {
    input.addEventListener('input', changed);
    input.addEventListener('focus', () => post({ type: 'focus' }));
    input.addEventListener('blur', () => post({ type: 'blur' }));
  }
  field('card').addEventListener('submit', (event) => event.preventDefault());

  /** payment_method_data[billing_details][...] from the object the site passed. */
  const addBilling = (body, prefix, value) => {
    if (value === null || value === undefined) return;
    if (typeof value === 'object') for (const [name, inner] of Object.entries(value)) addBilling(body, prefix + '[' + name + ']', inner);
    else body.append(prefix, String(value));
  };

  async function confirmSetup(clientSecret, billingDetails) {
    const invalid = problem(true);
    if (invalid) return { error: invalid };
    const parts = expiryParts();
    const body = new URLSearchParams({
      key,
      client_secret: clientSecret,
      'payment_method_data[type]': 'card',
      'payment_method_data[card][number]': digits(number.value),
      'payment_method_data[card][exp_month]': String(parts.month),
      'payment_method_data[card][exp_year]': String(parts.year),
      'payment_method_data[card][cvc]': cvc.value.trim(),
    });
    addBilling(body, 'payment_method_data[billing_details]', billingDetails);
    try {
      const answer = await fetch('/v1/setup_intents/' + encodeURIComponent(clientSecret.split('_secret_')[0]) + '/confirm', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      const json = await answer.json();
      if (answer.ok && json.status === 'requires_action' && json.next_action && json.next_action.type === 'use_stripe_sdk') return challenge(json, clientSecret);
      if (answer.ok) return { setupIntent: json };
      return { error: json.error || { type: 'api_error', message: 'An unexpected error occurred.' } };
    } catch {
      return { error: { type: 'api_connection_error', message: 'We could not connect to the payment provider. Please try again.' } };
    }
  }

  /**
   * 3-D Secure: as Stripe.js does, the confirmation waits for the person to answer their bank's
   * challenge, here the test one Stripe's test mode shows (complete or fail), then resolves as
   * Stripe.js does: the SetupIntent, or the authentication failure with it.
   */
  const card = field('card'), section = field('challenge');
  const completeButton = field('challenge-complete'), failButton = field('challenge-fail');
  const challenge = (intent, clientSecret) => new Promise((settle) => {
    card.hidden = true;
    section.hidden = false;
    post({ type: 'resize', height: document.documentElement.scrollHeight });
    completeButton.focus();
    const answer = async (outcome) => {
      completeButton.disabled = failButton.disabled = true;
      let result;
      try {
        const response = await fetch('/v1/3ds2/challenge_complete', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ key, client_secret: clientSecret, setup_intent: intent.id, outcome }),
        });
        const json = await response.json();
        if (!response.ok) result = { error: json.error || { type: 'api_error', message: 'An unexpected error occurred.' } };
        else if (json.status === 'succeeded') result = { setupIntent: json };
        else result = { error: { type: 'invalid_request_error', code: 'setup_intent_authentication_failure', message: 'We are unable to authenticate your payment method. Please choose a different payment method and try again.', setup_intent: json } };
      } catch {
        result = { error: { type: 'api_connection_error', message: 'We could not connect to the payment provider. Please try again.' } };
      }
      completeButton.onclick = failButton.onclick = null;
      completeButton.disabled = failButton.disabled = false;
      section.hidden = true;
      card.hidden = false;
      post({ type: 'resize', height: document.documentElement.scrollHeight });
      settle(result);
    };
    completeButton.onclick = () => answer('succeeded');
    failButton.onclick = () => answer('failed');
  });

  fromParent(async (data) => {
    if (data.type === 'focus') number.focus();
    else if (data.type === 'blur') document.activeElement && document.activeElement.blur();
    else if (data.type === 'clear') { number.value = expiry.value = cvc.value = ''; changed(); }
    else if (data.type === 'confirm-card-setup' && typeof data.clientSecret === 'string') {
      post({ type: 'confirm-result', requestId: data.requestId, result: await confirmSetup(data.clientSecret, data.billingDetails) });
    }
  });
  post({ type: 'resize', height: document.documentElement.scrollHeight });
  post({ type: 'ready' });
`,
});

/** Answers `GET /v3` (and `/v3/`) with the stand-in script; false for other requests. */
export function serveStripeJs(method: string, url: URL, response: ServerResponse): boolean {
  if (method !== 'GET' || (url.pathname !== STRIPE_JS_PATH && url.pathname !== `${STRIPE_JS_PATH}/`)) return false;
  response.writeHead(200, {
    'content-type': 'text/javascript; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    // Any site may load it, as js.stripe.com/v3 is loaded (a classic script needs no CORS; a module or crossorigin one does).
    'access-control-allow-origin': '*',
  });
  response.end(STRIPE_JS);
  return true;
}
