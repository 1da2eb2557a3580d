import { refuseAdjustment, SYSTEM_ACCOUNTS_CREDITED_BY_CORRECTIONS } from './correction-policy';

const accounts = new Map(
  [
    { id: 'person.p-1.wallet.EUR', ownerType: 'person' as const },
    { id: 'merchant.m-1.payable.EUR', ownerType: 'merchant' as const },
    { id: 'nonprofit.n-1.payable.EUR', ownerType: 'non_profit' as const },
    { id: 'system.topups.EUR', ownerType: 'system' as const },
    { id: 'system.fee-revenue.EUR', ownerType: 'system' as const },
    { id: 'system.psp-clearing.stripe.EUR', ownerType: 'system' as const },
    { id: 'system.suspense.EUR', ownerType: 'system' as const },
  ].map((account) => [account.id, account]),
);

describe('refuseAdjustment', () => {
  it('allows moving money between people, merchants and non-profits either way', () => {
    expect(
      refuseAdjustment(
        [
          { accountId: 'merchant.m-1.payable.EUR', direction: 'debit' },
          { accountId: 'person.p-1.wallet.EUR', direction: 'credit' },
          { accountId: 'person.p-1.wallet.EUR', direction: 'debit' },
          { accountId: 'nonprofit.n-1.payable.EUR', direction: 'credit' },
        ],
        accounts,
      ),
    ).toBeUndefined();
  });

  it('allows crediting the listed system accounts', () => {
    for (const id of ['system.topups.EUR', 'system.fee-revenue.EUR', 'system.psp-clearing.stripe.EUR']) {
      expect(
        refuseAdjustment(
          [
            { accountId: 'merchant.m-1.payable.EUR', direction: 'debit' },
            { accountId: id, direction: 'credit' },
          ],
          accounts,
        ),
      ).toBeUndefined();
    }
    expect(SYSTEM_ACCOUNTS_CREDITED_BY_CORRECTIONS.map((a) => a.prefix)).toEqual(['system.psp-clearing.', 'system.fee-revenue.', 'system.topups.']);
  });

  it('never debits a system account, listed or not', () => {
    for (const id of ['system.topups.EUR', 'system.fee-revenue.EUR', 'system.psp-clearing.stripe.EUR']) {
      expect(
        refuseAdjustment(
          [
            { accountId: id, direction: 'debit' },
            { accountId: 'person.p-1.wallet.EUR', direction: 'credit' },
          ],
          accounts,
        ),
      ).toMatchObject({ code: 'SYSTEM_ACCOUNT_DEBIT_REFUSED', accountId: id });
    }
    expect(refuseAdjustment([{ accountId: 'system.suspense.EUR', direction: 'debit' }], accounts)).toMatchObject({ code: 'ACCOUNT_NOT_CORRECTABLE' });
  });

  it('refuses system accounts that are not listed, even as a credit', () => {
    expect(
      refuseAdjustment(
        [
          { accountId: 'person.p-1.wallet.EUR', direction: 'debit' },
          { accountId: 'system.suspense.EUR', direction: 'credit' },
        ],
        accounts,
      ),
    ).toMatchObject({ code: 'ACCOUNT_NOT_CORRECTABLE', accountId: 'system.suspense.EUR' });
  });

  it('names an account that does not exist', () => {
    expect(refuseAdjustment([{ accountId: 'ghost', direction: 'credit' }], accounts)).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', accountId: 'ghost' });
  });
});
