import type { ServerResponse } from 'node:http';

/** An element of the provider's origin that a site frames: its page, the page's script, and what its 400 says it needs. */
export interface FramedElement {
  readonly pagePath: string;
  readonly scriptPath: string;
  readonly page: string;
  readonly script: string;
  /** How the 400 names it, e.g. "Stripe.js's card frame". */
  readonly name: string;
}

/** The styles every element page shares: its body, the error line and the provider's note. */
const BASE_STYLE = `  body { font: 16px/1.4 system-ui, sans-serif; margin: 0; padding: 4px; color: #1a1a1a; background: #fff; }
  #error { color: #a4001d; margin: 4px 0; min-height: 1.4em; }
  .note { color: #444; font-size: 13px; margin: 0; }`;

/** An element's page: the head every element shares, its own styles and body, then its script (the only one the CSP allows). */
export function elementPage(page: { title: string; style: string; body: string; scriptPath: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title>
<style>
${BASE_STYLE}
${page.style}
</style>
</head>
<body>
${page.body}
<script src="${page.scriptPath}"></script>
</body>
</html>
`;
}

/**
 * An element's script: the start every element's script shares — the framing page's origin and the
 * publishable key from the page's URL, `field(id)`, `post(message)` to the framing page alone
 * (tagged with `source`), `fromParent(listener)` for the framing page's messages alone — then its
 * own `body`, in strict mode and a closure of its own.
 */
export function elementScript(source: string, body: string): string {
  return `'use strict';
(() => {
  const params = new URLSearchParams(location.search);
  const parentOrigin = params.get('origin');
  const key = params.get('key');
  const field = (id) => document.getElementById(id);
  const post = (message) => parent.postMessage(Object.assign({ source: ${JSON.stringify(source)} }, message), parentOrigin);
  const fromParent = (listener) =>
    window.addEventListener('message', (event) => {
      if (event.origin === parentOrigin && event.source === parent && event.data) listener(event.data);
    });
${body}})();
`;
}

/** An element of the provider's origin: its page (the shared head, its own title, styles and body) and its script (the shared start, its own body). */
export function framedElement(element: {
  name: string;
  pagePath: string;
  scriptPath: string;
  title: string;
  style: string;
  body: string;
  /** The `source` of every message it posts. */
  source: string;
  script: string;
}): FramedElement {
  return {
    name: element.name,
    pagePath: element.pagePath,
    scriptPath: element.scriptPath,
    page: elementPage({ title: element.title, style: element.style, body: element.body, scriptPath: element.scriptPath }),
    script: elementScript(element.source, element.script),
  };
}

/** The origin the element may be framed by and post to: an http(s) origin, nothing else. */
export function framingOrigin(value: string | null): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Answers `GET <pagePath>?origin=<the framing site's origin>&key=<publishable key>` and its script; false for other paths. */
export function serveElement(element: FramedElement, method: string, url: URL, response: ServerResponse): boolean {
  if (method !== 'GET' || (url.pathname !== element.pagePath && url.pathname !== element.scriptPath)) return false;
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('cache-control', 'no-store');
  if (url.pathname === element.scriptPath) {
    response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
    response.end(element.script);
    return true;
  }
  const origin = framingOrigin(url.searchParams.get('origin'));
  if (!origin || !/^pk_test_\w+$/.test(url.searchParams.get('key') ?? '')) {
    response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(`${element.name} needs origin (the framing page, e.g. http://localhost:3000) and key (a pk_test_ publishable key).\n`);
    return true;
  }
  response.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    // Only the page it was opened for may frame it; it talks to the provider's API only.
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors ${origin}`,
    'referrer-policy': 'no-referrer',
  });
  response.end(element.page);
  return true;
}
