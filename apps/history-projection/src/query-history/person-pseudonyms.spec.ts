import type { EntryRow } from './history-query';
import { PersonPseudonyms } from './person-pseudonyms';

const row = (counterpartyType: string, counterpartyId: string): EntryRow =>
  ({ entry_id: 'payment:pay-1', payer_id: 'p-000001', counterparty_type: counterpartyType, counterparty_id: counterpartyId, method_id: 'm-1' }) as EntryRow;

describe('PersonPseudonyms', () => {
  const pseudonyms = new PersonPseudonyms('a-test-key-of-at-least-32-characters!');

  it('is stable per organisation, differs across organisations and keys, and hides the id', () => {
    const once = pseudonyms.of('org-a', 'p-000001');
    expect(once).toMatch(/^psn_[A-Za-z0-9_-]{22}$/);
    expect(pseudonyms.of('org-a', 'p-000001')).toBe(once);
    expect(pseudonyms.of('org-b', 'p-000001')).not.toBe(once);
    expect(pseudonyms.of('org-a', 'p-000002')).not.toBe(once);
    expect(new PersonPseudonyms('another-key-of-at-least-32-characters').of('org-a', 'p-000001')).not.toBe(once);
    expect(once).not.toContain('000001');
  });

  it('shows analysts every person as a pseudonym and no method id; businesses stay as they are; other roles see rows unchanged', () => {
    const analyst = pseudonyms.viewFor({ subject: 'a-1', role: 'analyst', scopes: [], organisation: 'org-a' })!;
    expect(analyst(row('merchant', 'm-shop'))).toMatchObject({ payer_id: pseudonyms.of('org-a', 'p-000001'), counterparty_id: 'm-shop', method_id: null });
    expect(analyst(row('person', 'p-000002'))).toMatchObject({ counterparty_id: pseudonyms.of('org-a', 'p-000002') });
    // Without an organisation: the analysts' shared namespace.
    const shared = pseudonyms.viewFor({ subject: 'a-2', role: 'analyst', scopes: [] })!;
    expect(shared(row('merchant', 'm-shop')).payer_id).toBe(pseudonyms.of('analysts', 'p-000001'));
    for (const role of ['person', 'service', 'operator'] as const) expect(pseudonyms.viewFor({ subject: 'x', role, scopes: [] })).toBeUndefined();
  });
});
