import { BaseServiceConfig } from '@pay/config';

/** Environment of the history-projection service, validated at start-up (see docs/configuration.md). */
export class HistoryProjectionConfig extends BaseServiceConfig {}
