import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

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
 * The address the person's request came from. The hub is reached through one proxy (the ingress,
 * deploy/), which appends the address it saw to X-Forwarded-For: the right-most entry is that one
 * (entries to its left are whatever the client sent). Without the header, the socket's peer.
 */
export function clientAddress(request: IncomingMessage): string | undefined {
  const forwarded = request.headers['x-forwarded-for'];
  const header = Array.isArray(forwarded) ? forwarded.at(-1) : forwarded;
  const last = header
    ?.split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .at(-1);
  const address = last ?? request.socket.remoteAddress;
  if (!address) return undefined;
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return isIP(plain) ? plain : undefined;
}
