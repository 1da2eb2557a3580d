/**
 * payment-orchestration's public entry for what runs beside it: operational tools (reconcile),
 * benches, deploy checks and end-to-end tests (`@pay/payment-orchestration/tools`). Apps import
 * no app; only those may import this.
 */
export { paymentOrchestrationService } from './payment-orchestration.service';
export { PaymentOrchestrationConfig } from './config';
export { NonProfitRegistry } from './check-purchase/non-profit-registry';
export type { PaymentDrivers } from './payment-drivers';
export { createPaymentDrivers } from './payment-drivers';
export { PAYMENT_DRIVERS } from './payments.module';
export { HttpWalletInstruments } from './authorize-and-capture/http-wallet-instruments';
export { orchestrationFundsCommandAttester, orchestrationServiceTokens } from './authorize-and-capture/service-token';
export { stripeSettingsFrom } from './psp/stripe/stripe.config';
export { createStripeClient } from './psp/stripe/stripe-client';
export { StripePaymentServiceProvider } from './psp/stripe/stripe-payment-service-provider';
export { payPalSettingsFrom } from './psp/paypal/paypal.config';
export { createPaymentServiceProviders } from './psp/psp.module';
export { parsePspRoutes } from './psp/payment-service-providers';
export { purchaseRequestReplay } from './initiate-payment/replay-purchase-request';
