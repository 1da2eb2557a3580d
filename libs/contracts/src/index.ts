export * from './topics';
export * from './envelope/event-envelope';
export * from './envelope/event-registry';
export * from './envelope/money';
export * from './ledger/ledger-events';
