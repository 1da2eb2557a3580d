import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The headers a browser needs to treat our JSON APIs safely (what `helmet` sets for an API, written
 * out because it is this short): never sniffed into HTML, never framed, no referrer, HTTPS only,
 * and never cached — answers carry payment instruments, proofs and tokens. A route whose answer is
 * public and cacheable (a JWKS) may set its own Cache-Control. The interactive OpenAPI page
 * (`/docs`) keeps its scripts: the API's strict Content-Security-Policy would forbid them.
 */
export function securityHeaders(): (request: IncomingMessage, response: ServerResponse, next: () => void) => void {
  return (request, response, next) => {
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('X-Frame-Options', 'DENY');
    response.setHeader('Referrer-Policy', 'no-referrer');
    response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    response.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    response.setHeader('Cache-Control', 'no-store');
    if (!/^\/docs(\/|$|-|\?)/.test(request.url ?? '')) {
      response.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    }
    next();
  };
}
