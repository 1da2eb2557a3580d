import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `payment_steps.trace_context`: the W3C trace context (`traceparent`, `tracestate`) of the
 * request that scheduled the step. Steps run later, in a worker, after the request's commit: the
 * worker continues this trace, so a purchase's PSP call and the events it causes belong to the
 * purchase's trace (docs/operations.md, "Tracing a purchase").
 */
export class PaymentStepTrace1764835200000 implements MigrationInterface {
  name = 'PaymentStepTrace1764835200000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query("ALTER TABLE payment_steps ADD COLUMN trace_context jsonb NOT NULL DEFAULT '{}'::jsonb");
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payment_steps DROP COLUMN trace_context');
  }
}
