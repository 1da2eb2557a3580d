import { ledgerEventId } from './ledger-events';

describe('ledgerEventId', () => {
  // Ids already published must not change: consumers' inboxes deduplicate a re-emitted entry by them.
  it.each([
    ['fund-1', 'f189500c-ac07-5554-9665-657c7c84ec3a'],
    ['p-123:post', '4c98ff3f-996a-50f4-a17c-7008849ad7ef'],
    ['x', '52649d16-8944-5972-bc8c-65c3b6075b40'],
  ])('derives the same version-5 UUID from %s as it always has', (transactionId, id) => {
    expect(ledgerEventId(transactionId)).toBe(id);
  });
});
