/** Example payloads shown in the AsyncAPI document; a test proves each one is accepted. */
export const EXAMPLES: Record<string, unknown> = {
  'payments.purchase.requested': {
    id: '0b7e4a52-6f1d-4c4e-9a8e-2f61c3d1a001',
    type: 'payments.purchase.requested',
    version: 1,
    source: 'app',
    subject: '5d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
    sequence: 1,
    occurredAt: '2026-11-25T08:00:00.000Z',
    correlationId: '9a1f2e3d-4c5b-4a69-8877-665544332211',
    data: {
      requestId: '5d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
      kind: 'purchase',
      payerId: 'person-42',
      counterparty: { type: 'merchant', id: 'merchant-7' },
      app: 'instagram',
      country: 'DE',
      amount: { amount: '1250', currency: 'EUR' },
      merchantCategory: '5732',
      description: 'Phone case',
    },
  },
};
