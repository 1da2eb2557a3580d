import type { IncomingMessage } from 'node:http';
import { request as httpRequest, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** The WebSocket handshake headers the hub passes on to the support service. */
const HANDSHAKE_HEADERS = ['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol'];

/** Answers an upgrade the hub does not relay with a bare status line, and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, reason = STATUS_CODES[status] ?? ''): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** The browser's handshake as the support service gets it: its WebSocket headers and the session's access token (the browser has none). */
function upstreamHandshake(request: IncomingMessage, accessToken: string): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${accessToken}` };
  for (const name of HANDSHAKE_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

/** The support service's 101 answer, passed on to the browser as it came. */
function switchingProtocols(answer: IncomingMessage): string {
  const lines = [`HTTP/1.1 101 Switching Protocols`];
  for (let i = 0; i < answer.rawHeaders.length; i += 2) lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Relays the bytes both ways until either side closes or fails, then closes both. */
function splice(browser: Duplex, service: Duplex): void {
  service.pipe(browser).pipe(service);
  const close = (): void => {
    browser.destroy();
    service.destroy();
  };
  browser.on('error', close).on('close', close);
  service.on('error', close).on('close', close);
}

/**
 * Opens the support service's socket.io endpoint (`target`) with the session's access token and,
 * once it switches protocols, relays the browser's socket to it; any other answer is passed on
 * as a refusal, and no answer is a 502.
 */
export function relayUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, target: URL, accessToken: string): void {
  const upstream = httpRequest(target, { method: 'GET', headers: upstreamHandshake(request, accessToken) });
  upstream.on('upgrade', (answer, upstreamSocket, upstreamHead) => {
    socket.write(switchingProtocols(answer));
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    splice(socket, upstreamSocket);
  });
  upstream.on('response', (answer) => {
    refuseUpgrade(socket, answer.statusCode ?? 502, answer.statusMessage ?? 'Bad Gateway');
    answer.resume();
  });
  upstream.on('error', () => refuseUpgrade(socket, 502));
  socket.on('error', () => upstream.destroy());
  upstream.end();
}
