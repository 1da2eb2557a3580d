import { BaseServiceConfig } from '@pay/config';

/** Environment of the ad-signal-aggregation service, validated at start-up (see docs/configuration.md). */
export class AdSignalAggregationConfig extends BaseServiceConfig {}
