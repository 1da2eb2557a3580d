/** Injection token of the PSP port per provider (PaymentServiceProviders); tests bind other adapters to it. */
export const PAYMENT_SERVICE_PROVIDERS = Symbol('PaymentServiceProviders');
