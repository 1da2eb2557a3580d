import type { MethodRow } from '../project-events/wallet-profile';
import { methodFromRecord, methodRecord } from './method-record';

const CARD: MethodRow = {
  methodId: 'pm_1',
  personId: 'person-1',
  kind: 'card',
  brand: 'visa',
  last4: '4242',
  expMonth: 12,
  expYear: 2031,
  country: 'DE',
  addedAt: '2026-03-01T10:00:00.123Z',
  removedAt: null,
  unusableReason: null,
  unusableSince: null,
};
const CLOSED_ACCOUNT: MethodRow = {
  ...CARD,
  methodId: 'pm_2',
  kind: 'bank_account',
  brand: null,
  expMonth: null,
  expYear: null,
  last4: '1113',
  country: 'US',
  unusableReason: 'account_closed',
  unusableSince: '2026-03-04T09:00:00.000Z',
};

describe('method records', () => {
  it('reads back the method it wrote', () => {
    expect(methodFromRecord(methodRecord(CARD))).toEqual(CARD);
    expect(methodFromRecord(methodRecord(CLOSED_ACCOUNT))).toEqual(CLOSED_ACCOUNT);
  });

  it('reads the driver’s timestamps as ISO-8601 UTC with milliseconds, as history’s views show them', () => {
    const record = { ...methodRecord(CARD), added_at: new Date('2026-03-01T11:00:00.123+01:00'), removed_at: new Date(Date.UTC(2026, 3, 2, 8, 30)) };
    expect(methodFromRecord(record)).toEqual({ ...CARD, removedAt: '2026-04-02T08:30:00.000Z' });
  });

  it('keeps a method named by a payment before the wallet told of it: only its owner', () => {
    const unknown: MethodRow = { ...CARD, kind: null, brand: null, last4: null, expMonth: null, expYear: null, country: null, addedAt: null };
    expect(methodFromRecord(methodRecord(unknown))).toEqual(unknown);
  });
});
