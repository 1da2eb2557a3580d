import { FINANCIAL_CONNECTIONS_ELEMENT } from './financial-connections-element';
import { STRIPE_JS_CARD_FRAME } from './stripe-js';
import { elementPage } from './serve-element';

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
