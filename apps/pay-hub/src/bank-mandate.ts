import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * The SEPA Direct Debit mandate the Pay Hub shows before a bank account is saved, by version: the
 * page shows this text (GET /bff/bank-mandate), the person ticks that they accept it, and the hub
 * records the acceptance with the account (the version, the person's IP address and user agent as
 * the hub saw them; the wallet adds when). A new wording is a new version.
 */
export const BANK_MANDATE = {
  textVersion: 'pay-hub-sepa-2026-12',
  text:
    'By saving this bank account, you authorise Pay Platform and its payment provider Stripe to send instructions to your bank ' +
    'to debit your account, and your bank to debit your account in accordance with those instructions, for the payments you ' +
    'make with Pay. As part of your rights, you are entitled to a refund from your bank under the terms and conditions of ' +
    'your agreement with it. A refund must be claimed within 8 weeks starting from the date on which your account was debited. ' +
    'Your rights are explained in a statement that you can obtain from your bank.',
} as const;

/**
 * The ACH debit authorisation the Pay Hub shows before a US bank account is saved (Nacha requires
 * the payer's authorisation, with how to revoke it); recorded the same way as the SEPA mandate.
 */
export const US_BANK_MANDATE = {
  textVersion: 'pay-hub-ach-2026-12',
  text:
    'By saving this bank account, you authorise Pay Platform and its payment provider Stripe to debit this account by ACH ' +
    'for the payments you make with Pay, each for the amount you confirm at the time, and, if necessary, to credit it to ' +
    'correct erroneous debits. This authorisation stays in effect until you remove the account from Pay, which you can do at ' +
    'any time; removing it does not affect debits already made. Before it can be debited, the account is verified: by signing ' +
    'in at your bank, or by a small deposit sent to it whose code you confirm here.',
} as const;

/**
 * The proxies whose X-Forwarded-For entries the hub believes (`HUB_TRUSTED_PROXIES`: addresses or
 * CIDR ranges, comma-separated); undefined or `none`: none.
 */
export function trustedProxies(list: string | undefined): BlockList | undefined {
  if (!list?.trim() || list.trim() === 'none') return undefined;
  const proxies = new BlockList();
  for (const entry of list.split(',').map((part) => part.trim())) {
    const [address, prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address) === 0) throw new Error(`HUB_TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range`);
    if (prefix === undefined) proxies.addAddress(address, type);
    else proxies.addSubnet(address, Number.parseInt(prefix, 10), type);
  }
  return proxies;
}

const plainAddress = (address: string | undefined): string | undefined => {
  const trimmed = address?.trim();
  if (!trimmed) return undefined;
  const plain = trimmed.startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4 ? trimmed.slice(7) : trimmed;
  return isIP(plain) ? plain : undefined;
};

const isTrusted = (proxies: BlockList, address: string): boolean => proxies.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');

/**
 * The address the person's request came from. The socket's peer, unless it is a trusted proxy
 * (`proxies`): then X-Forwarded-For is read from the right, each trusted proxy's entry giving way to
 * the one it received the request from, and the first address no trusted proxy owns is the client
 * (entries left of it are whatever the client sent, never believed). A malformed entry in the
 * trusted part: undefined (nothing is recorded rather than a guess).
 */
export function clientAddress(request: IncomingMessage, proxies: BlockList | undefined): string | undefined {
  const peer = plainAddress(request.socket.remoteAddress);
  if (!peer || !proxies || !isTrusted(proxies, peer)) return peer;
  const forwarded = request.headers['x-forwarded-for'];
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').filter((hop) => hop.trim() !== '');
  let client = peer;
  for (let index = hops.length - 1; index >= 0 && isTrusted(proxies, client); index--) {
    const hop = plainAddress(hops[index]);
    if (!hop) return undefined;
    client = hop;
  }
  return client;
}
