import { LOCAL_TEST_DATABASE_URL } from './test-infrastructure-plan';

/** The database the integration and end-to-end tiers use; their global set-up chooses and creates it. */
export function testDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? LOCAL_TEST_DATABASE_URL;
}
