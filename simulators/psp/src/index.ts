export * from './psp-simulator';
export * from './webhooks/sign-webhook';
export type { WebhookDelivery, WebhookEvent, WebhookPolicy } from './webhooks/webhook-outbox';
export type { FaultRule } from './faults/fault-plan';
export type { ChargeObject, DisputeObject, PaymentIntentObject, PendingDebit, RecordedRequest, RefundObject } from './simulator-state';
export { TEST_PAYMENT_METHODS } from './payment-methods/test-payment-methods';
export * from './webhooks/webhook-receiver';
