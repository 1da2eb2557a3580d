/**
 * The Pay Hub server's public entry for what runs beside it: `npm start`, the browser tests
 * (`@pay/pay-hub/tools`).
 */
export { PayHubConfig } from './config';
export type { DevTokenMinter, PayHubOptions, RunningPayHub } from './hub-server';
export { startPayHub } from './hub-server';
export { devTokenMinter } from './dev-tokens';
