/**
 * A refusal by a wallet rule. `kind` says what sort of refusal it is (the HTTP layer maps it to
 * a status), `code` is stable for clients, and the message says what was wrong and what is
 * accepted. Messages never quote secrets.
 */
export type WalletErrorKind = 'invalid' | 'not-found' | 'conflict' | 'refused' | 'locked' | 'rate-limited' | 'unsupported' | 'unavailable';

export class WalletError extends Error {
  override name = 'WalletError';
  constructor(
    readonly kind: WalletErrorKind,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const walletNotFound = (): WalletError =>
  // The same words whether the wallet does not exist or belongs to someone else.
  new WalletError('not-found', 'NOT_FOUND', 'nothing was found at this address');

export const methodNotFound = (): WalletError => new WalletError('not-found', 'PAYMENT_METHOD_NOT_FOUND', 'this wallet has no payment method with that id');
