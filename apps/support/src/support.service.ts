import type { ServiceDefinition } from '@pay/platform';
import { SupportModule } from './app.module';
import { SupportConfig } from './config';
import { supportMigrations } from './database/migrations';
import { supportConsumers } from './support.consumers';

export const supportService: ServiceDefinition<SupportConfig> = {
  name: 'support',
  schema: 'support',
  defaultPort: 3005,
  title: 'Support API',
  description:
    "Real-time support chat (WebSocket namespace /support, socket.io; see docs/support-chat.md and docs/asyncapi.yaml), the agents' queue, payment timelines and refunds agents start.",
  configClass: SupportConfig,
  migrations: supportMigrations,
  rootModule: (platform) => SupportModule.forRoot(platform),
  consumers: supportConsumers,
};
