/**
 * ad-signal-aggregation's public entry for what runs beside it: operational tools, deploy
 * checks and end-to-end tests (`@pay/ad-signal-aggregation/tools`). Apps import no app; only
 * those may import this.
 */
export { adSignalAggregationService } from './ad-signal-aggregation.service';
export { AdSignalAggregationConfig } from './config';
