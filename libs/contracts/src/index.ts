// class-transformer's @Type reads design-time metadata: load the polyfill before any contract class.
import 'reflect-metadata';

export * from './topics';
export * from './topic-access';
export * from './envelope/event-envelope';
export * from './envelope/event-registry';
export * from './envelope/validation-metadata-cache';
export { provenValid } from './envelope/validation-fast-path';
export * from './envelope/money';
export * from './envelope/ids';
export * from './ledger/ledger-events';
export * from './ledger/ledger-payment-link';
export * from './payments/payment-events';
export * from './payments/purchase-requested';
export * from './payments/payment-failure-codes';
export * from './wallet/wallet-events';
export * from './wallet/payment-instrument';
export * from './wallet/instrument-releases';
export * from './wallet-funds/wallet-funds';
export * from './ad-signals/ad-signal-aggregate';
export * from './support/support-events';
export * from './support/support-chat';
export * from './support/chat-views';
/** Example payloads (docs/asyncapi.yaml shows them; a test proves each is accepted). */
export { EXAMPLES as EVENT_EXAMPLES } from './asyncapi/examples';
