import { Inject, Injectable } from '@nestjs/common';
import type { Sql } from '@pay/platform';
import { sqlOfPool } from '@pay/platform';
import { DataSource } from 'typeorm';
import { WalletError } from '../domain/wallet-error';
import type { BankAccountVerifier, MicrodepositProof } from '../ports/bank-account-verifier';
import { BANK_ACCOUNT_VERIFIER, BankVerificationUnavailable } from '../ports/bank-account-verifier';
import { assertActive } from '../remove-payment-method/method-status';
import { SecretBox, secretContext } from '../store/secret-box';
import { WalletStore } from '../store/wallet-store';
import { PaymentMethodReader } from '../view-payment-methods/payment-method-reader';
import type { PaymentMethodView } from '../view-payment-methods/payment-method-view';

/**
 * Use case: the person says what the micro-deposits sent to their US bank account were (the
 * descriptor code, or the two amounts); the PSP checks, and the account may pay once verified.
 * Wrong answers may be tried again until the PSP ends the verification; then the account is
 * `failed` for good (it is saved again to start over).
 */
@Injectable()
export class VerifyBankAccount {
  constructor(
    private readonly store: WalletStore,
    private readonly reader: PaymentMethodReader,
    private readonly secrets: SecretBox,
    @Inject(BANK_ACCOUNT_VERIFIER) private readonly verifier: BankAccountVerifier,
    dataSource: DataSource,
  ) {
    this.pool = sqlOfPool(dataSource);
  }

  private readonly pool: Sql;

  async verify(personId: string, methodId: string, proof: MicrodepositProof, actor: string): Promise<PaymentMethodView> {
    const row = await this.reader.row(personId, methodId);
    assertActive(row);
    if (row.verification === 'verified') throw new WalletError('conflict', 'BANK_ACCOUNT_ALREADY_VERIFIED', 'this bank account is verified already');
    if (row.verification === 'failed') throw attemptsExceeded();
    const secret =
      row.verification === 'pending' && row.secret
        ? (JSON.parse(await this.secrets.open(this.pool, row.secret, secretContext.method(row.id))) as Record<string, string>)
        : {};
    if (!secret.bankSetupId)
      throw new WalletError(
        'conflict',
        'NOTHING_TO_VERIFY',
        'this payment method has no micro-deposits to verify: only a US bank account saved with its numbers has',
      );
    const verdict = await this.verifier.verify(secret.bankSetupId, proof).catch((error: unknown) => {
      if (error instanceof BankVerificationUnavailable)
        throw new WalletError('unavailable', 'BANK_VERIFICATION_UNAVAILABLE', 'the micro-deposits could not be checked now: try again later');
      throw error;
    });
    switch (verdict.outcome) {
      case 'mismatch':
        throw new WalletError(
          'invalid',
          'MICRODEPOSITS_MISMATCH',
          'that is not what was sent: enter the 6-character code starting with SM from the deposit, or the two amounts deposited',
        );
      case 'attempts_exceeded':
        await this.settle(personId, methodId, 'failed', actor);
        throw attemptsExceeded();
      case 'not_awaiting':
        throw new WalletError(
          'conflict',
          'NOTHING_TO_VERIFY',
          'the payment provider is not waiting for these micro-deposits any more: remove the account and save it again',
        );
      case 'verified':
        return this.settle(personId, methodId, 'verified', actor);
    }
  }

  private settle(personId: string, methodId: string, verification: 'verified' | 'failed', actor: string): Promise<PaymentMethodView> {
    return this.store.change(personId, actor, async (change) => {
      const wallet = await change.wallet();
      await change.sql.query("UPDATE payment_methods SET verification = $3, updated_at = now() WHERE id = $1 AND person_id = $2 AND verification = 'pending'", [
        methodId,
        personId,
        verification,
      ]);
      return this.reader.view(await this.reader.row(personId, methodId, change.sql), wallet.preferred_method_id, change.sql);
    });
  }
}

const attemptsExceeded = (): WalletError =>
  new WalletError(
    'conflict',
    'VERIFICATION_ATTEMPTS_EXCEEDED',
    'too many wrong tries: this bank account can no longer be verified; remove it and save it again',
  );
