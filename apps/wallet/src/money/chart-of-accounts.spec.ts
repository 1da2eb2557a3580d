import { defineAccount, ID_PATTERN } from '@pay/ledger-domain';
import { counterpartyAccount, feeRevenue, merchantPayable, nonProfitPayable, personWallet, pspClearing, topups } from './chart-of-accounts';
import { captureTransactionId, derivedLedgerId, disputeLossTransactionId, refundTransactionId, transferReservationId } from './ledger-ids';

describe('chart of accounts', () => {
  it('names accounts by owner, purpose and currency', () => {
    expect(merchantPayable('m-42', 'EUR').id).toBe('merchant.m-42.payable.EUR');
    expect(nonProfitPayable('np_7', 'USD').id).toBe('nonprofit.np_7.payable.USD');
    expect(personWallet('u.1', 'EUR').id).toBe('person.u.1.wallet.EUR');
    expect(pspClearing('stripe', 'EUR').id).toBe('system.psp-clearing.stripe.EUR');
    expect(feeRevenue('EUR').id).toBe('system.fee-revenue.EUR');
    expect(topups('EUR').id).toBe('system.topups.EUR');
    expect(counterpartyAccount({ type: 'non-profit', id: 'np_7' }, 'USD')).toEqual(nonProfitPayable('np_7', 'USD'));
  });

  it('gives each account the definition the ledger accepts: a person never below zero, businesses and system accounts unguarded', () => {
    expect(defineAccount(personWallet('u1', 'EUR'))).toMatchObject({ ownerType: 'person', normalSide: 'credit', minBalance: 0n });
    expect(defineAccount(merchantPayable('m1', 'EUR'))).toMatchObject({ ownerType: 'merchant', normalSide: 'credit', minBalance: null });
    expect(defineAccount(nonProfitPayable('n1', 'EUR'))).toMatchObject({ ownerType: 'non_profit', normalSide: 'credit', minBalance: null });
    expect(defineAccount(pspClearing('stripe', 'EUR'))).toMatchObject({ ownerType: 'system', normalSide: 'debit', minBalance: null });
    expect(defineAccount(feeRevenue('EUR'))).toMatchObject({ ownerType: 'system', normalSide: 'credit', minBalance: null });
    expect(defineAccount(topups('EUR'))).toMatchObject({ ownerType: 'system', normalSide: 'debit', minBalance: null });
  });

  it('hashes owner ids the ledger cannot hold (":" or a leading "_"), keeping the raw id in metadata', () => {
    const colon = merchantPayable('acct:42', 'EUR');
    expect(colon.id).toMatch(/^merchant-h\.[0-9a-f]{40}\.payable\.EUR$/);
    expect(colon.metadata).toEqual({ ref: 'acct:42' });
    expect(defineAccount(colon).ownerId).toMatch(/^h\.[0-9a-f]{40}$/);
    expect(personWallet('_x', 'EUR').id).toMatch(/^person-h\./);
    // The hashed form can never be mistaken for a raw id, whatever the raw id is.
    expect(merchantPayable(`h.${'0'.repeat(40)}`, 'EUR').id).toBe(`merchant.h.${'0'.repeat(40)}.payable.EUR`);
  });

  it('fits the longest ids the contracts allow (100 characters)', () => {
    const longest = 'a'.repeat(100);
    for (const account of [personWallet(longest, 'EUR'), merchantPayable(longest, 'EUR'), nonProfitPayable(longest, 'EUR')]) {
      expect(account.id).toMatch(ID_PATTERN);
      expect(() => defineAccount(account)).not.toThrow();
    }
  });
});

describe('derived ledger ids', () => {
  it('keeps a single fitting id readable, and hashes the rest under a distinct prefix', () => {
    expect(captureTransactionId('pay_1')).toBe('capture.pay_1');
    expect(transferReservationId('pay_1')).toBe('p2p.pay_1');
    expect(captureTransactionId('pay:1')).toMatch(/^capture-h\.[0-9a-f]{40}$/);
    expect(refundTransactionId('pay_1', 're_1')).toMatch(/^refund-h\.[0-9a-f]{40}$/);
    expect(disputeLossTransactionId('pay_1', 'dp_1')).toMatch(/^dispute-loss-h\.[0-9a-f]{40}$/);
  });

  it('is deterministic and tells its parts apart', () => {
    expect(refundTransactionId('p', 'r')).toBe(refundTransactionId('p', 'r'));
    expect(refundTransactionId('p.1', 'r')).not.toBe(refundTransactionId('p', '1.r'));
    expect(refundTransactionId('p', 'r')).not.toBe(disputeLossTransactionId('p', 'r'));
    expect(derivedLedgerId('x', 'a', 'b')).not.toBe(derivedLedgerId('x', 'ab'));
    for (const id of [captureTransactionId('a'.repeat(100)), refundTransactionId('a'.repeat(100), 'b'.repeat(100))]) expect(id).toMatch(ID_PATTERN);
  });
});
