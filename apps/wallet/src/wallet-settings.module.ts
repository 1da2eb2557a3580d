import type { OnApplicationBootstrap } from '@nestjs/common';
import { Inject, Injectable, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { StepUpProofSigner } from '@pay/auth/step-up-signer';
import { CachingKeyWrapper, DataKeyStore, MasterKeyRing } from '@pay/encryption';
import type { Logger } from '@pay/observability';
import { LOGGER, SERVICE_CONFIG } from '@pay/platform';
import { RolloutModule } from '@pay/rollout';
import type { JWK } from 'jose';
import { AddPaymentMethodController } from './add-payment-method/add-payment-method.controller';
import { AddPaymentMethod } from './add-payment-method/add-payment-method.service';
import { ChangePinController } from './change-pin/change-pin.controller';
import { ChangePin } from './change-pin/change-pin.service';
import { ChoosePreferredMethodController } from './choose-preferred-method/choose-preferred-method.controller';
import { ChoosePreferredMethod } from './choose-preferred-method/choose-preferred-method.service';
import { STRIPE_SIMULATOR_SECRET_KEY, stripeApiLocation } from '@pay/config';
import type { WalletConfig } from './config';
import { DEVELOPMENT_MASTER_KEY_ID } from './config';
import { GetPaymentInstrumentController } from './get-payment-instrument/get-payment-instrument.controller';
import { GetPaymentInstrument } from './get-payment-instrument/get-payment-instrument.service';
import { ReleasePaymentInstrumentsController } from './get-payment-instrument/release-payment-instruments.controller';
import { RefuseCardNumbersInterceptor } from './http/refuse-card-numbers.interceptor';
import { WalletErrorFilter } from './http/wallet-error.filter';
import { IssueStepUpController, StepUpKeysController } from './issue-step-up/issue-step-up.controller';
import { IssueStepUp } from './issue-step-up/issue-step-up.service';
import { OpenWalletController } from './open-wallet/open-wallet.controller';
import { OpenWallet } from './open-wallet/open-wallet.service';
import { CLOCK, systemClock } from './ports/clock';
import { Argon2PinHasher, PIN_HASHER } from './ports/pin-hasher';
import { PasskeyCeremonies } from './passkeys/passkey-ceremonies';
import { PasskeyStore } from './passkeys/passkey-store';
import { RegisterPasskeyController } from './register-passkey/register-passkey.controller';
import { RegisterPasskey } from './register-passkey/register-passkey.service';
import { RemovePasskeyController } from './remove-passkey/remove-passkey.controller';
import { RemovePasskey } from './remove-passkey/remove-passkey.service';
import { ViewPasskeysController } from './view-passkeys/view-passkeys.controller';
import { RecordConsentController } from './record-consent/record-consent.controller';
import { RecordConsent } from './record-consent/record-consent.service';
import { RolloutController } from './reload-rollout/reload-rollout.controller';
import { RemovePaymentMethodController } from './remove-payment-method/remove-payment-method.controller';
import { RemovePaymentMethod } from './remove-payment-method/remove-payment-method.service';
import { RenamePaymentMethodController } from './rename-payment-method/rename-payment-method.controller';
import { RenamePaymentMethod } from './rename-payment-method/rename-payment-method.service';
import { SetPayAppsController } from './set-pay-apps/set-pay-apps.controller';
import { SetPayApps } from './set-pay-apps/set-pay-apps.service';
import { SetPinController } from './set-pin/set-pin.controller';
import { SetPin } from './set-pin/set-pin.service';
import { PinAttemptLimit } from './http/pin-attempt-limit.guard';
import { PinChecker } from './store/pin-check';
import { RateLimitBuckets } from './store/rate-limit-buckets';
import { DATA_KEY_STORE, SecretBox } from './store/secret-box';
import { WalletStore } from './store/wallet-store';
import { UnblockPinController } from './unblock-pin/unblock-pin.controller';
import { UnblockPin } from './unblock-pin/unblock-pin.service';
import { UpdateContactController } from './update-contact/update-contact.controller';
import { UpdateContact } from './update-contact/update-contact.service';
import { PaymentMethodReader } from './view-payment-methods/payment-method-reader';
import { ViewPaymentMethodsController } from './view-payment-methods/view-payment-methods.controller';
import { ViewWalletController } from './view-wallet/view-wallet.controller';
import { PaymentsInProgressModule } from './payments-in-progress/payments-in-progress.module';
import { ViewWallet } from './view-wallet/view-wallet.service';
import { BANK_ACCOUNT_VERIFIER } from './ports/bank-account-verifier';
import { StripeBankAccountVerifier } from './verify-bank-account/stripe-bank-account-verifier';
import { VerifyBankAccountController } from './verify-bank-account/verify-bank-account.controller';
import { VerifyBankAccount } from './verify-bank-account/verify-bank-account.service';
import type { WalletRules } from './wallet-settings.tokens';
import { STEP_UP_SIGNER, WALLET_RULES } from './wallet-settings.tokens';

/** Says at start-up which development defaults are in use (production refuses them in config). */
@Injectable()
class DevelopmentDefaultsWarning implements OnApplicationBootstrap {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: WalletConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.AUTH_JWKS && !this.config.AUTH_JWKS_URL) this.logger.warn('no AUTH_JWKS or AUTH_JWKS_URL: every API request will be refused with 401');
    if (this.config.WALLET_MASTER_KEY_ID === DEVELOPMENT_MASTER_KEY_ID)
      this.logger.warn('secrets are sealed with the development master key: set WALLET_MASTER_KEYS');
    if (!this.config.STEP_UP_SIGNING_JWK) this.logger.warn('no STEP_UP_SIGNING_JWK: step-up proofs are signed with a key generated for this process only');
  }
}

const controllers = [
  // Literal routes before parameterised ones with the same prefix.
  StepUpKeysController,
  RolloutController,
  OpenWalletController,
  ViewWalletController,
  SetPayAppsController,
  AddPaymentMethodController,
  ViewPaymentMethodsController,
  RenamePaymentMethodController,
  VerifyBankAccountController,
  ChoosePreferredMethodController,
  RemovePaymentMethodController,
  GetPaymentInstrumentController,
  ReleasePaymentInstrumentsController,
  SetPinController,
  UnblockPinController,
  ChangePinController,
  IssueStepUpController,
  RegisterPasskeyController,
  ViewPasskeysController,
  RemovePasskeyController,
  RecordConsentController,
  UpdateContactController,
];

const useCases = [
  OpenWallet,
  ViewWallet,
  SetPayApps,
  AddPaymentMethod,
  RenamePaymentMethod,
  VerifyBankAccount,
  ChoosePreferredMethod,
  RemovePaymentMethod,
  GetPaymentInstrument,
  SetPin,
  ChangePin,
  UnblockPin,
  IssueStepUp,
  RegisterPasskey,
  RemovePasskey,
  RecordConsent,
  UpdateContact,
];

/**
 * "Pay" settings of the wallet: payment methods saved once, Pay per app, PIN and step-up
 * proofs, consent, contact details; every change published on wallet.events.v1.
 */
@Module({
  imports: [
    RolloutModule.forRootAsync({
      inject: [SERVICE_CONFIG, LOGGER],
      useFactory: (config: WalletConfig, logger: Logger) => ({ path: config.ROLLOUT_CONFIG_PATH, logger }),
    }),
    PaymentsInProgressModule,
  ],
  controllers,
  providers: [
    ...useCases,
    WalletStore,
    SecretBox,
    PinChecker,
    RateLimitBuckets,
    PinAttemptLimit,
    PaymentMethodReader,
    PasskeyStore,
    PasskeyCeremonies,
    DevelopmentDefaultsWarning,
    {
      // US bank accounts are set up and verified at Stripe (the local simulator outside production, without a key).
      provide: BANK_ACCOUNT_VERIFIER,
      inject: [SERVICE_CONFIG],
      useFactory: (config: WalletConfig) =>
        new StripeBankAccountVerifier({
          secretKey: config.STRIPE_SECRET_KEY ?? STRIPE_SIMULATOR_SECRET_KEY,
          ...stripeApiLocation(config, config.STRIPE_SECRET_KEY === undefined),
        }),
    },
    {
      provide: DATA_KEY_STORE,
      inject: [SERVICE_CONFIG],
      useFactory: (config: WalletConfig) =>
        new DataKeyStore(
          new CachingKeyWrapper(MasterKeyRing.parse(config.WALLET_MASTER_KEYS, config.WALLET_MASTER_KEY_ID), {
            ttlMs: config.WALLET_DATA_KEY_CACHE_MS,
            maxKeys: config.WALLET_DATA_KEY_CACHE_SIZE,
          }),
        ),
    },
    {
      provide: STEP_UP_SIGNER,
      inject: [SERVICE_CONFIG],
      useFactory: async (config: WalletConfig) =>
        StepUpProofSigner.create({
          privateJwk: config.STEP_UP_SIGNING_JWK ? (JSON.parse(config.STEP_UP_SIGNING_JWK) as JWK) : await StepUpProofSigner.generatePrivateJwk(),
          issuer: config.STEP_UP_ISSUER,
          ttlSeconds: config.STEP_UP_TTL_SECONDS,
        }),
    },
    {
      provide: WALLET_RULES,
      inject: [SERVICE_CONFIG],
      useFactory: (config: WalletConfig): WalletRules => ({
        pinLockout: {
          maxAttempts: config.PIN_MAX_ATTEMPTS,
          lockoutsMs: [config.PIN_LOCKOUT_SECONDS, ...config.PIN_LATER_LOCKOUTS_SECONDS].map((seconds) => seconds * 1000),
        },
        pinAttemptRates: { perPerson: config.PIN_ATTEMPTS_PER_PERSON_PER_MINUTE, perCaller: config.PIN_ATTEMPTS_PER_CALLER_PER_MINUTE },
        adConsentGrantedByDefaultCountries: new Set(config.AD_CONSENT_GRANTED_BY_DEFAULT_COUNTRIES),
        passkeys: {
          rpId: config.WEBAUTHN_RP_ID,
          rpName: config.WEBAUTHN_RP_NAME,
          origins: config.WEBAUTHN_ORIGINS,
          challengeTtlMs: config.WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000,
        },
      }),
    },
    { provide: PIN_HASHER, useValue: new Argon2PinHasher() },
    { provide: CLOCK, useValue: systemClock },
    { provide: APP_FILTER, useClass: WalletErrorFilter },
    { provide: APP_INTERCEPTOR, useClass: RefuseCardNumbersInterceptor },
  ],
})
export class WalletSettingsModule {}
