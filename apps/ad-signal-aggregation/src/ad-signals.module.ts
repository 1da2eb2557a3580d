import type { OnApplicationBootstrap } from '@nestjs/common';
import { Inject, Injectable, Module } from '@nestjs/common';
import { KeyedLaplaceNoise } from '@pay/ad-signals-domain';
import type { Logger } from '@pay/observability';
import { LOGGER, SERVICE_CONFIG } from '@pay/platform';
import type { AdSignalSettings } from './ad-signals.settings';
import { settingsFrom } from './ad-signals.settings';
import { AD_SIGNAL_SETTINGS, CLOCK, NOISE_SOURCE, systemClock } from './ad-signals.tokens';
import { PeriodicWindowCloser } from './close-windows/periodic-window-closer';
import { WindowCloser } from './close-windows/window-closer';
import type { AdSignalAggregationConfig } from './config';
import { DEVELOPMENT_NOISE_KEY, DEVELOPMENT_PSEUDONYM_KEY } from './config';
import { PaymentUsageController } from './consume-payment-usage/payment-usage.controller';
import { QueryAggregatesController } from './query-aggregates/query-aggregates.controller';
import { QueryAggregates } from './query-aggregates/query-aggregates.service';
import { RecordConsent } from './record-consent/consent.recorder';
import { RecordPaymentFacts } from './record-payment-facts/payment-facts.recorder';

/** Says at start-up which rules are in force and which development defaults are in use. */
@Injectable()
class PrivacyRulesNotice implements OnApplicationBootstrap {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: AdSignalAggregationConfig,
    @Inject(AD_SIGNAL_SETTINGS) private readonly settings: AdSignalSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const { policy } = this.settings;
    this.logger.info(
      {
        k: policy.k,
        maxPurchasesPerPerson: policy.maxPurchasesPerPerson,
        groupings: policy.groupings.length,
        differentialPrivacy: policy.differentialPrivacy !== undefined,
      },
      'ad-signal privacy rules',
    );
    if (this.config.AD_SIGNALS_PSEUDONYM_KEY === DEVELOPMENT_PSEUDONYM_KEY)
      this.logger.warn('pseudonyms use the development key: set AD_SIGNALS_PSEUDONYM_KEY');
    if (policy.differentialPrivacy && this.config.AD_SIGNALS_DP_NOISE_KEY === DEVELOPMENT_NOISE_KEY)
      this.logger.warn('noise uses the development key: set AD_SIGNALS_DP_NOISE_KEY');
    if (!this.config.AUTH_JWKS && !this.config.AUTH_JWKS_URL)
      this.logger.warn('no AUTH_JWKS or AUTH_JWKS_URL: every advertiser query will be refused with 401');
  }
}

/**
 * Ad signals: payment usage aggregated per window, k-anonymous, of consenting people only,
 * published on ad-signals.aggregates.v1 and queried by advertisers for their own merchants.
 */
@Module({
  controllers: [QueryAggregatesController, PaymentUsageController],
  providers: [
    { provide: AD_SIGNAL_SETTINGS, inject: [SERVICE_CONFIG], useFactory: (config: AdSignalAggregationConfig) => settingsFrom(config) },
    { provide: CLOCK, useValue: systemClock },
    { provide: NOISE_SOURCE, inject: [AD_SIGNAL_SETTINGS], useFactory: (settings: AdSignalSettings) => new KeyedLaplaceNoise(settings.noiseKey) },
    RecordPaymentFacts,
    RecordConsent,
    WindowCloser,
    PeriodicWindowCloser,
    QueryAggregates,
    PrivacyRulesNotice,
  ],
})
export class AdSignalsModule {}
