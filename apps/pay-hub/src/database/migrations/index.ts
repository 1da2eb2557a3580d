import type { MigrationList } from '@pay/platform';
import { HubSessions1767398400000 } from './1767398400000-hub-sessions';
import { SupportSessions1767398400001 } from './1767398400001-support-sessions';
import { CardSetups1768894100000 } from './1768894100000-card-setups';

/** Every migration of the pay_hub schema, in order. */
export const payHubMigrations: MigrationList = [HubSessions1767398400000, SupportSessions1767398400001, CardSetups1768894100000];

/** The hub's own schema (DB_SCHEMA overrides it, as for the services). */
export const PAY_HUB_SCHEMA = 'pay_hub';

/** The hub's schema as the migration tool (tools/migrate.ts) and its Kubernetes Job see it. */
export const payHubSchema = { name: 'pay-hub', schema: PAY_HUB_SCHEMA, migrations: payHubMigrations };
