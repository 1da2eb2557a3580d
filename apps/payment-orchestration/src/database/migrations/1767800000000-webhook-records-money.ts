import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook records stored before the PSP port spoke Money kept a payment's amount as a tagged
 * bigint beside its currency (`"amount": {"$bigint": "999"}, "currency": "USD"`); they take the
 * one shape records have since, `"amount": {"amount": "999", "currency": "USD"}`, so reading a
 * record knows one shape only. Refund and dispute subjects never had an amount: untouched.
 */
export class WebhookRecordsMoney1767800000000 implements MigrationInterface {
  name = 'WebhookRecordsMoney1767800000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      UPDATE psp_webhook_events
         SET payload = jsonb_set(
               payload #- '{subject,payment,currency}',
               '{subject,payment,amount}',
               jsonb_build_object('amount', payload #>> '{subject,payment,amount,$bigint}', 'currency', payload #> '{subject,payment,currency}'))
       WHERE payload #>> '{subject,kind}' = 'payment'
         AND payload #> '{subject,payment}' ? 'currency'
         AND payload #> '{subject,payment,amount}' ? '$bigint'`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      UPDATE psp_webhook_events
         SET payload = jsonb_set(
               jsonb_set(payload, '{subject,payment,currency}', payload #> '{subject,payment,amount,currency}'),
               '{subject,payment,amount}',
               jsonb_build_object('$bigint', payload #>> '{subject,payment,amount,amount}'))
       WHERE payload #>> '{subject,kind}' = 'payment'
         AND payload #> '{subject,payment,amount}' ? 'currency'`);
  }
}
