/**
 * support's public entry for what runs beside it: tools, benches, deploy checks and end-to-end
 * tests (`@pay/support/tools`). Apps import no app; only those may import this.
 */
export { supportService } from './support.service';
export { supportMigrations } from './database/migrations';
export { SupportConfig } from './config';
export type { ConversationView, MessageView, ReceiptView } from '@pay/contracts';
