import { FINANCIAL_CONNECTIONS_ELEMENT } from './financial-connections-element';
import { STRIPE_JS_CARD_FRAME } from './stripe-js';
import { elementPage, elementScript } from './serve-element';

describe('element pages', () => {
  it('builds a page of its title, styles, body and one script, in the head every element shares', () => {
    const page = elementPage({ title: 'Test element', style: '  .own { color: red; }', body: '<form id="own"></form>', scriptPath: '/elements/test.js' });
    expect(page).toMatch(
      /^<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport"[^\n]*>\n<title>Test element<\/title>\n<style>\n/,
    );
    expect(page).toContain('#error { color: #a4001d;');
    expect(page).toContain('  .own { color: red; }\n</style>');
    expect(page).toContain('<body>\n<form id="own"></form>\n<script src="/elements/test.js"></script>\n</body>\n</html>\n');
  });

  it.each([STRIPE_JS_CARD_FRAME, FINANCIAL_CONNECTIONS_ELEMENT])('$name: one external script, its own (the CSP allows no inline script)', (element) => {
    expect(element.page.match(/<script\b[^>]*>/g)).toEqual([`<script src="${element.scriptPath}">`]);
    expect(element.page.startsWith('<!doctype html>\n<html lang="en">\n<head>\n')).toBe(true);
  });

  it("the Financial Connections element says what went wrong in its own alert line (Stripe.js's card frame reports errors to the site's page)", () => {
    expect(FINANCIAL_CONNECTIONS_ELEMENT.page).toContain('<p id="error" role="alert"></p>');
  });
});

describe('element scripts', () => {
  /** Runs a script as a page framed by `https://site.example` would, and records what it posts and to whom. */
  function framed(script: string) {
    const posted: Array<{ message: Record<string, unknown>; origin: string }> = [];
    const listeners: Array<(event: { origin: string; source: unknown; data: unknown }) => void> = [];
    const parent = { postMessage: (message: Record<string, unknown>, origin: string) => posted.push({ message, origin }) };
    const window = { addEventListener: (type: string, listener: (typeof listeners)[number]) => type === 'message' && listeners.push(listener) };
    const location = { search: '?origin=https%3A%2F%2Fsite.example&key=pk_test_1' };
    const document = { getElementById: (id: string) => ({ id }) };
    // The script is the element's own, run with these stand-ins of the browser's globals.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const run = new Function('window', 'parent', 'location', 'document', script) as (...globals: unknown[]) => void;
    run(window, parent, location, document);
    const send = (event: { origin: string; source: unknown; data: unknown }) => listeners.forEach((listener) => listener(event));
    return { posted, parent, send };
  }

  it("posts to the framing page's origin alone, tagged with its source, and hears only the framing page", () => {
    const { posted, parent, send } = framed(
      elementScript(
        'test-element',
        "  fromParent((data) => post({ type: 'heard', what: data.type, key, field: field('x').id }));\n  post({ type: 'ready' });\n",
      ),
    );
    expect(posted).toEqual([{ message: { source: 'test-element', type: 'ready' }, origin: 'https://site.example' }]);
    send({ origin: 'https://evil.example', source: parent, data: { type: 'from another origin' } });
    send({ origin: 'https://site.example', source: {}, data: { type: 'from another window' } });
    send({ origin: 'https://site.example', source: parent, data: null });
    send({ origin: 'https://site.example', source: parent, data: { type: 'ping' } });
    expect(posted.slice(1)).toEqual([
      { message: { source: 'test-element', type: 'heard', what: 'ping', key: 'pk_test_1', field: 'x' }, origin: 'https://site.example' },
    ]);
  });
});
