/**
 * The Pay Hub server's public entry for what runs beside it: `npm start`, the browser tests, the
 * migration tool and the deploy checks (`@pay/pay-hub/tools`).
 */
export { PayHubConfig } from './config';
export type { DevTokenMinter, PayHubOptions, RunningPayHub } from './hub-server';
export { startPayHub } from './hub-server';
export { devTokenMinter } from './dev-tokens';
export { PAY_HUB_SCHEMA, payHubMigrations, payHubSchema } from './database/migrations';
