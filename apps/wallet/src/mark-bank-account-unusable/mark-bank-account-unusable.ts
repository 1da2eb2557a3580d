import { Injectable } from '@nestjs/common';
import type { PaymentFailedData } from '@pay/contracts';
import { isBankAccountUnusableCode } from '@pay/contracts';
import type { Sql } from '@pay/platform';

/**
 * The saved bank account a payment was debited from, marked unusable when the payer's bank refused
 * the debit for good (account closed, not found, mandate revoked: BANK_ACCOUNT_UNUSABLE_CODES); a
 * refusal that may pass next time (insufficient funds) leaves it as it is. The account is the one
 * the wallet released for that payment (its own audit, `instrument_releases`), so a preferred
 * method is found as well as a named one. Run in the consumer's inbox transaction: once per event;
 * the first reason is kept.
 */
@Injectable()
export class MarkBankAccountUnusable {
  async afterFailure(sql: Sql, data: PaymentFailedData): Promise<void> {
    if (!isBankAccountUnusableCode(data.code)) return;
    await sql.query(
      `UPDATE payment_methods m SET unusable_reason = $2, unusable_since = now()
         FROM (SELECT method_id FROM instrument_releases WHERE payment_id = $1 AND outcome = 'released' ORDER BY id DESC LIMIT 1) r
        WHERE m.id::text = r.method_id AND m.kind = 'bank_account' AND m.unusable_reason IS NULL`,
      [data.paymentId, data.code],
    );
  }
}
