export * from './principal';
export * from './auth-errors';
export * from './key-set';
export * from './key-grants';
export * from './access-token-verifier';
export * from './decorators';
export * from './auth.tokens';
export * from './auth.guard';
export * from './auth.module';
export * from './service-tokens';
export * from './typed-jws';
export * from './support-case';
export * from './refund-approval';
export * from './mandate-attestation';
export * from './step-up/step-up-proof';
export * from './step-up/step-up-verifier';
export * from './step-up/step-up-threshold';
// The signer is exported apart (`@pay/auth/step-up-signer`): only the wallet signs proofs.
