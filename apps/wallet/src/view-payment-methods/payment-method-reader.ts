import { Injectable } from '@nestjs/common';
import type { Sql } from '@pay/platform';
import { sqlOfPool } from '@pay/platform';
import { DataSource } from 'typeorm';
import { maskEmail } from '../domain/contact';
import { needsResaving } from '../domain/payment-method-rules';
import { methodNotFound } from '../domain/wallet-error';
import { SecretBox, secretContext } from '../store/secret-box';
import type { PaymentMethodRow, PaymentMethodView } from './payment-method-view';
import { toPaymentMethodView } from './payment-method-view';

/** Reads a person's methods; every query names the person, so another person's id is simply absent. */
@Injectable()
export class PaymentMethodReader {
  private readonly pool: Sql;

  constructor(
    dataSource: DataSource,
    private readonly secrets: SecretBox,
  ) {
    this.pool = sqlOfPool(dataSource);
  }

  async list(personId: string, preferredId: string | null, includeRemoved: boolean, sql: Sql = this.pool): Promise<PaymentMethodView[]> {
    const rows = await sql.query<PaymentMethodRow>(
      `SELECT * FROM payment_methods WHERE person_id = $1 ${includeRemoved ? '' : "AND status = 'active'"} ORDER BY created_at, id`,
      [personId],
    );
    return Promise.all(rows.map((row) => this.view(row, preferredId, sql)));
  }

  async row(personId: string, methodId: string, sql: Sql = this.pool): Promise<PaymentMethodRow> {
    const rows = await sql.query<PaymentMethodRow>('SELECT * FROM payment_methods WHERE id = $1 AND person_id = $2', [methodId, personId]);
    if (!rows[0]) throw methodNotFound();
    return rows[0];
  }

  async view(row: PaymentMethodRow, preferredId: string | null, sql: Sql = this.pool): Promise<PaymentMethodView> {
    let maskedEmail: string | undefined;
    let resave = false;
    if ((row.kind === 'paypal' || row.kind === 'bank_account') && row.secret) {
      const secret = JSON.parse(await this.secrets.open(sql, row.secret, secretContext.method(row.id))) as Record<string, string>;
      maskedEmail = row.kind === 'paypal' && secret.email ? maskEmail(secret.email) : undefined;
      resave = needsResaving(row.kind, secret);
    }
    return toPaymentMethodView(row, preferredId, maskedEmail, resave);
  }
}
