export * from './aead';
export * from './master-key-ring';
export * from './data-key-store';
export * from './field-cipher';
export * from './rewrap-data-keys';
export * from './unwrapped-key-cache';
