import type { PaymentInstrument } from '@pay/contracts';

/**
 * What charging a saved method needs from the wallet, which alone holds it: the PaymentInstrument
 * contract (the PSP's token of a card, a PayPal vault id, a bank account for a mandate). Asked at
 * the moment of charging, so a method removed since the request was accepted is not charged.
 */
export type { PaymentInstrument };

export type InstrumentLookup =
  | { readonly outcome: 'found'; readonly instrument: PaymentInstrument }
  /** The wallet refuses for good (method removed, Pay switched off): the payment fails with this code. */
  | { readonly outcome: 'refused'; readonly code: string }
  /** The wallet did not answer usefully (down, timeout, 5xx, our credentials): try again later. */
  | { readonly outcome: 'unavailable'; readonly reason: string };

/** The payment the instrument is charged for: the wallet releases it only while that payment of the person awaits its charge. */
export interface InstrumentRequest {
  readonly paymentId: string;
  readonly personId: string;
  readonly methodId: string;
  readonly app: string;
}

export interface WalletInstruments {
  lookup(request: InstrumentRequest): Promise<InstrumentLookup>;
}

export const WALLET_INSTRUMENTS = Symbol('WalletInstruments');
