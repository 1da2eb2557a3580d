import { BaseServiceConfig } from '@pay/config';

/** Environment of the wallet service, validated at start-up (see docs/configuration.md). */
export class WalletConfig extends BaseServiceConfig {}
