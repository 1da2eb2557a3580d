export * from './validate-config';
export * from './base-service.config';
export * from './database.config';
export * from './json-validators';
export * from './env-values';
export * from './stripe-api.config';
export * from './not-http-when-live';
export * from './stripe-webhook-events';
