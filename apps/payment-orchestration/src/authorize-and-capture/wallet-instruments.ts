/**
 * What charging a saved method needs from the wallet, which alone holds it: the PSP's token of
 * the method (and the PSP customer it is saved on). Asked at the moment of charging, so a method
 * removed since the request was accepted is not charged.
 */
export interface PaymentInstrument {
  readonly methodId: string;
  readonly kind: string;
  readonly pspToken?: string;
  readonly customer?: string;
  /** A PayPal account's vault id (Vault v3 payment token), which PayPal charges. */
  readonly vaultToken?: string;
}

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
