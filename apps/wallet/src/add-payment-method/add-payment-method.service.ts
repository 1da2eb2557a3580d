import { Inject, Injectable } from '@nestjs/common';
import type { MandateAttestation } from '@pay/auth';
import type { PaymentMethodKind } from '@pay/contracts';
import { PaymentMethodAddedV1, PaymentMethodRemovedV1 } from '@pay/contracts';
import { findCardNumber } from '@pay/observability';
import type { RolloutSource } from '@pay/rollout';
import { ROLLOUT } from '@pay/rollout';
import { randomUUID } from 'node:crypto';
import { normalizeEmail } from '../domain/contact';
import { assertValidIban, normalizeIban } from '../domain/iban';
import type { BankAccountIdentity, MethodDisplay } from '../domain/payment-method-rules';
import { assertValidRoutingNumber } from '../domain/us-bank-account';
import {
  assertCardNotExpired,
  assertRoomForAnotherMethod,
  becomesPreferred,
  defaultLabel,
  isSameBankAccount,
  normalizeLabel,
} from '../domain/payment-method-rules';
import type { BankAccountVerifier } from '../ports/bank-account-verifier';
import {
  BANK_ACCOUNT_VERIFIER,
  BankAccountRefused,
  BankConnectionIncomplete,
  BankConnectionNotFound,
  BankVerificationUnavailable,
} from '../ports/bank-account-verifier';
import type { Clock } from '../ports/clock';
import { WalletError } from '../domain/wallet-error';
import { CLOCK } from '../ports/clock';
import { SecretBox, secretContext } from '../store/secret-box';
import type { WalletChange } from '../store/wallet-store';
import { WalletStore } from '../store/wallet-store';
import { PaymentMethodReader } from '../view-payment-methods/payment-method-reader';
import type { PaymentMethodView } from '../view-payment-methods/payment-method-view';
import type {
  AddBankAccountRequest,
  AddCardRequest,
  AddPaypalAccountRequest,
  AddStripeCustomerRequest,
  AddUsBankAccountRequest,
} from './add-payment-method.dto';

interface NewMethod {
  kind: PaymentMethodKind;
  label?: string;
  display: MethodDisplay;
  /** What lets the method pay; sealed before it is stored. */
  secret: Record<string, string>;
  /** Given when the id was needed before the insert (the PSP's idempotency key). */
  id?: string;
  /** A US bank account starts `pending` until its micro-deposits are verified; one linked at its bank is `verified` at once. */
  verification?: 'pending' | 'verified';
}

/** The sealed fields of a saved bank account that tell which account it is. */
const identityOf = (secret: Record<string, string>, display: MethodDisplay): BankAccountIdentity => ({
  ...(secret.iban ? { iban: secret.iban } : {}),
  ...(secret.routingNumber ? { routingNumber: secret.routingNumber } : {}),
  ...(secret.accountNumber ? { accountNumber: secret.accountNumber } : {}),
  ...(display.last4 ? { last4: display.last4 } : {}),
});

/**
 * Method ids appear in URLs and logs; the log scrubber would hide one whose digit groups happen
 * to pass the Luhn check, so such ids (about one in ten thousand) are never handed out.
 */
function newMethodId(): string {
  for (;;) {
    const id = randomUUID();
    if (findCardNumber(id) === undefined) return id;
  }
}

/** The PSP refused the account (the field the person corrects), or could not be reached (try later). */
const bankSetupFailure =
  (field: string) =>
  (error: unknown): never => {
    if (error instanceof BankAccountRefused) throw new WalletError('invalid', 'BANK_ACCOUNT_REFUSED', error.message, { field: error.field ?? field });
    if (error instanceof BankVerificationUnavailable)
      throw new WalletError(
        'unavailable',
        'BANK_VERIFICATION_UNAVAILABLE',
        'the bank account could not be set up at the payment provider now: try again later',
      );
    throw error;
  };

/** Saves a payment method once: display data in clear, the rest sealed with the person's key. */
@Injectable()
export class AddPaymentMethod {
  constructor(
    private readonly store: WalletStore,
    private readonly secrets: SecretBox,
    private readonly reader: PaymentMethodReader,
    @Inject(ROLLOUT) private readonly rollout: RolloutSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BANK_ACCOUNT_VERIFIER) private readonly verifier: BankAccountVerifier,
  ) {}

  addCard(personId: string, actor: string, card: AddCardRequest): Promise<PaymentMethodView> {
    assertCardNotExpired(card.expMonth, card.expYear, this.clock.now());
    return this.add(personId, actor, {
      kind: 'card',
      label: card.label,
      display: { brand: card.brand, last4: card.last4, expMonth: card.expMonth, expYear: card.expYear, country: card.country },
      // Under the contract's names (PaymentInstrumentCredentials): orchestration charges `customer` + `pspToken`.
      secret: { pspToken: card.pspToken, ...(card.customerId ? { customer: card.customerId } : {}) },
    });
  }

  addPaypalAccount(personId: string, actor: string, account: AddPaypalAccountRequest): Promise<PaymentMethodView> {
    return this.add(personId, actor, {
      kind: 'paypal',
      label: account.label,
      display: {},
      secret: { payerId: account.payerId, email: normalizeEmail(account.email), ...(account.vaultToken ? { vaultToken: account.vaultToken } : {}) },
    });
  }

  /**
   * An IBAN is saved once at the PSP (a PaymentMethod for SEPA Direct Debit on a customer of its
   * own, under the mandate), as a card is: each purchase debits that PaymentMethod, never sending
   * the IBAN again. The IBAN stays sealed with it (the method's display and a fallback); the
   * holder's e-mail, which SEPA requires, goes to the PSP only and is not kept here.
   */
  async addBankAccount(personId: string, actor: string, account: AddBankAccountRequest, attested: MandateAttestation): Promise<PaymentMethodView> {
    const iban = normalizeIban(account.iban);
    assertValidIban(iban);
    const id = newMethodId();
    const mandate = this.mandateRecord(attested);
    const saved = await this.verifier
      .saveIban({
        methodId: id,
        personId,
        iban,
        holderName: account.holderName,
        holderEmail: account.holderEmail,
        mandate: { acceptedAt: attested.acceptedAt, ipAddress: attested.ipAddress, userAgent: attested.userAgent },
      })
      .catch(bankSetupFailure('iban'));
    return this.add(personId, actor, {
      id,
      kind: 'bank_account',
      label: account.label,
      display: { last4: iban.slice(-4), country: iban.slice(0, 2) },
      secret: {
        iban,
        holderName: account.holderName,
        ...(account.bic ? { bic: account.bic } : {}),
        pspToken: saved.paymentMethodId,
        customer: saved.customerId,
        ...mandate,
      },
    });
  }

  /**
   * A US account is a bank account too (one kind): ACH debits it, where SEPA debits an IBAN. Given
   * by its numbers, it is set up at the PSP on a customer of its own under the mandate, and
   * micro-deposits are sent: it stays `pending` (and cannot pay) until the person verifies them
   * (verify-bank-account/). Linked at its bank through a Financial Connections session instead, it
   * is verified at once (addConnectedUsBankAccount).
   */
  async addUsBankAccount(personId: string, actor: string, account: AddUsBankAccountRequest, attested: MandateAttestation): Promise<PaymentMethodView> {
    if (account.financialConnectionsSession !== undefined) {
      if (account.routingNumber !== undefined || account.accountNumber !== undefined)
        throw new WalletError(
          'invalid',
          'VALIDATION_FAILED',
          'give either the account numbers or financialConnectionsSession (the account linked at its bank), not both',
        );
      return this.addConnectedUsBankAccount(personId, actor, { ...account, financialConnectionsSession: account.financialConnectionsSession }, attested);
    }
    const { routingNumber, accountNumber, accountType } = account as Required<Pick<AddUsBankAccountRequest, 'routingNumber' | 'accountNumber' | 'accountType'>>;
    assertValidRoutingNumber(routingNumber);
    const id = newMethodId();
    const mandate = this.mandateRecord(attested);
    const setup = await this.verifier
      .start({
        methodId: id,
        personId,
        routingNumber,
        accountNumber,
        accountType,
        holderName: account.holderName,
        mandate: { acceptedAt: attested.acceptedAt, ipAddress: attested.ipAddress, userAgent: attested.userAgent },
      })
      .catch(bankSetupFailure('accountNumber'));
    return this.add(personId, actor, {
      id,
      kind: 'bank_account',
      label: account.label,
      display: { last4: accountNumber.slice(-4), country: 'US' },
      verification: 'pending',
      secret: {
        routingNumber,
        accountNumber,
        accountType,
        holderName: account.holderName,
        // The PSP's PaymentMethod on its customer is what is debited once verified; the setup is what verification names.
        pspToken: setup.paymentMethodId,
        customer: setup.customerId,
        bankSetupId: setup.setupId,
        ...mandate,
      },
    });
  }

  /**
   * Instant verification: the person linked the account at their bank in the PSP's Financial
   * Connections session (the hub opened it on a customer made for them); the PSP saves it verified
   * under the mandate. The wallet never sees the account number: it keeps what the bank told the
   * PSP (last four, routing number, type) and the PaymentMethod on its customer.
   */
  private async addConnectedUsBankAccount(
    personId: string,
    actor: string,
    account: AddUsBankAccountRequest & { financialConnectionsSession: string },
    attested: MandateAttestation,
  ): Promise<PaymentMethodView> {
    const id = newMethodId();
    const mandate = this.mandateRecord(attested);
    const saved = await this.verifier
      .saveConnectedAccount({
        methodId: id,
        personId,
        sessionId: account.financialConnectionsSession,
        holderName: account.holderName,
        mandate: { acceptedAt: attested.acceptedAt, ipAddress: attested.ipAddress, userAgent: attested.userAgent },
      })
      .catch((error: unknown) => {
        if (error instanceof BankConnectionNotFound) throw new WalletError('not-found', 'BANK_CONNECTION_NOT_FOUND', 'no such bank connection of this person');
        if (error instanceof BankConnectionIncomplete)
          throw new WalletError('conflict', 'BANK_CONNECTION_INCOMPLETE', 'no bank account was linked in this connection: link one at your bank first');
        return bankSetupFailure('financialConnectionsSession')(error);
      });
    return this.add(personId, actor, {
      id,
      kind: 'bank_account',
      label: account.label,
      display: { last4: saved.last4, country: 'US' },
      verification: 'verified',
      secret: {
        routingNumber: saved.routingNumber,
        accountType: saved.accountType,
        holderName: account.holderName,
        pspToken: saved.paymentMethodId,
        customer: saved.customerId,
        ...mandate,
      },
    });
  }

  /**
   * The mandate's acceptance as the service that showed it attested it (what it saw, and when),
   * sealed with the account: the IP address and user agent are personal data.
   */
  private mandateRecord(attested: MandateAttestation): Record<string, string> & { mandateAcceptedAt: string } {
    return {
      mandateTextVersion: attested.textVersion,
      mandateIpAddress: attested.ipAddress,
      mandateUserAgent: attested.userAgent,
      mandateAcceptedAt: attested.acceptedAt.toISOString(),
    };
  }

  addStripeCustomer(personId: string, actor: string, customer: AddStripeCustomerRequest): Promise<PaymentMethodView> {
    return this.add(personId, actor, {
      kind: 'stripe_customer',
      label: customer.label,
      display: {},
      secret: { customerId: customer.customerId, ...(customer.paymentMethodId ? { paymentMethodId: customer.paymentMethodId } : {}) },
    });
  }

  private async add(personId: string, actor: string, method: NewMethod): Promise<PaymentMethodView> {
    const label = normalizeLabel(method.label ?? defaultLabel(method.kind, method.display));
    return this.store.change(personId, actor, async (change) => {
      let wallet = await change.wallet();
      this.rollout.policy.assertLive(wallet.country);
      const replaced = method.kind === 'bank_account' ? await this.replaceUnusable(change, identityOf(method.secret, method.display)) : undefined;
      if (replaced?.wasPreferred) wallet = { ...wallet, preferred_method_id: null };
      const [{ active }] = await change.sql.query<{ active: number }>(
        "SELECT count(*)::int AS active FROM payment_methods WHERE person_id = $1 AND status = 'active'",
        [personId],
      );
      assertRoomForAnotherMethod(active);
      const id = method.id ?? newMethodId();
      const secret = await this.secrets.seal(change.sql, personId, JSON.stringify(method.secret), secretContext.method(id));
      await change.sql.query(
        `INSERT INTO payment_methods (id, person_id, kind, label, display, secret, status, verification) VALUES ($1, $2, $3, $4, $5, $6, 'active', $7)`,
        [id, personId, method.kind, label, JSON.stringify(method.display), secret, method.verification ?? null],
      );
      // The account saved again takes the place of the unusable one, preferred if it was.
      const preferred = becomesPreferred(wallet.preferred_method_id);
      if (preferred) await change.sql.query('UPDATE wallets SET preferred_method_id = $2 WHERE person_id = $1', [personId, id]);
      change.emit(PaymentMethodAddedV1, { methodId: id, kind: method.kind, display: method.display, preferred });
      return this.reader.view(await this.reader.row(personId, id, change.sql), preferred ? id : wallet.preferred_method_id, change.sql);
    });
  }

  /**
   * Saving again an account the payer's bank refused for good is how its owner clears the mark: a
   * new mandate (and, for a US account given by its numbers, new micro-deposits), a new method at
   * the PSP. The unusable one is removed as RemovePaymentMethod removes (secret erased, history
   * kept), in the same change, so the wallet never lists the account twice.
   */
  private async replaceUnusable(change: WalletChange, again: BankAccountIdentity): Promise<{ wasPreferred: boolean } | undefined> {
    const unusable = await change.sql.query<{ id: string; secret: string; display: MethodDisplay }>(
      `SELECT id, secret, display FROM payment_methods
        WHERE person_id = $1 AND kind = 'bank_account' AND status = 'active' AND unusable_reason IS NOT NULL AND secret IS NOT NULL
        ORDER BY created_at, id`,
      [change.personId],
    );
    for (const row of unusable) {
      const saved = JSON.parse(await this.secrets.open(change.sql, row.secret, secretContext.method(row.id))) as Record<string, string>;
      if (!isSameBankAccount(identityOf(saved, row.display), again)) continue;
      const wallet = await change.wallet();
      const wasPreferred = wallet.preferred_method_id === row.id;
      if (wasPreferred) await change.sql.query('UPDATE wallets SET preferred_method_id = NULL WHERE person_id = $1', [change.personId]);
      await change.sql.query(
        "UPDATE payment_methods SET status = 'removed', secret = NULL, removed_at = now(), updated_at = now() WHERE id = $1 AND person_id = $2",
        [row.id, change.personId],
      );
      change.emit(PaymentMethodRemovedV1, { methodId: row.id, wasPreferred });
      return { wasPreferred };
    }
    return undefined;
  }
}
