import { Injectable } from '@nestjs/common';
import type { PaymentDisputeOpenedData, PaymentFailedData } from '@pay/contracts';
import { isBankAccountUnusableCode, PaymentMethodMarkedUnusableV1 } from '@pay/contracts';
import type { Sql } from '@pay/platform';
import { WalletChange } from '../store/wallet-store';

/** Who marks an account: the wallet itself, on the payer's bank's answer carried by payments.events.v1. */
const ACTOR = 'system:payer-bank';

/**
 * The saved bank account a payment was debited from, marked unusable when the payer's bank refused
 * the debit for good (account closed, not found, mandate revoked: BANK_ACCOUNT_UNUSABLE_CODES),
 * late or after it settled; a refusal that may pass next time (insufficient funds) leaves it as it
 * is. The account is the one the wallet released for that payment (its own audit,
 * `instrument_releases`), so a preferred method is found as well as a named one; a removed account
 * (or one saved again since: replaced) is left alone. Run in the
 * consumer's inbox transaction: once per event; the first reason is kept, and
 * `wallet.payment-method.marked-unusable` is written to the outbox by the same transaction when
 * (and only when) this marked it.
 */
@Injectable()
export class MarkBankAccountUnusable {
  /** A debit that failed late (`payments.payment.failed` with the bank's code). */
  afterFailure(sql: Sql, data: PaymentFailedData): Promise<void> {
    return this.mark(sql, data.paymentId, data.code);
  }

  /**
   * A settled debit the bank returned: orchestration records it as a dispute opened (with the
   * bank's code as its reason) and lost at once. A card dispute's reason is none of these codes,
   * and only a bank account is ever marked.
   */
  afterDisputeOpened(sql: Sql, data: PaymentDisputeOpenedData): Promise<void> {
    return this.mark(sql, data.paymentId, data.reason);
  }

  private async mark(sql: Sql, paymentId: string, code: string): Promise<void> {
    if (!isBankAccountUnusableCode(code)) return;
    const [marked] = await sql.query<{ id: string; person_id: string }>(
      `UPDATE payment_methods m SET unusable_reason = $2, unusable_since = now(), updated_at = now()
         FROM (SELECT method_id FROM instrument_releases WHERE payment_id = $1 AND outcome = 'released' ORDER BY id DESC LIMIT 1) r
        WHERE m.id::text = r.method_id AND m.kind = 'bank_account' AND m.status = 'active' AND m.unusable_reason IS NULL
        RETURNING m.id, m.person_id`,
      [paymentId, code],
    );
    if (!marked) return;
    // Numbered after the person's last event (the wallets row's lock orders concurrent numbering).
    const change = new WalletChange(sql, marked.person_id, ACTOR);
    change.emit(PaymentMethodMarkedUnusableV1, { methodId: marked.id, reason: code, paymentId });
    await change.flush();
  }
}
