/** Injection token of the PaymentServiceProvider port; tests bind another adapter to it. */
export const PAYMENT_SERVICE_PROVIDER = Symbol('PaymentServiceProvider');
