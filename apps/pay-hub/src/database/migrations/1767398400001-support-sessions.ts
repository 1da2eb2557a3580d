import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Support agents sign in to the hub too (its support desk): their sessions are kept like the others'. */
export class SupportSessions1767398400001 implements MigrationInterface {
  name = 'SupportSessions1767398400001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE sessions DROP CONSTRAINT sessions_role_check');
    await runner.query("ALTER TABLE sessions ADD CONSTRAINT sessions_role_check CHECK (role IN ('person', 'analyst', 'support'))");
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query("DELETE FROM sessions WHERE role = 'support'");
    await runner.query('ALTER TABLE sessions DROP CONSTRAINT sessions_role_check');
    await runner.query("ALTER TABLE sessions ADD CONSTRAINT sessions_role_check CHECK (role IN ('person', 'analyst'))");
  }
}
