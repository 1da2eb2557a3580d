import { EVENT_EXAMPLES, PurchaseRequested } from '@pay/contracts';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage } from 'class-validator';
import type { PurchaseRequest } from '../check-purchase/purchase-request';
import { toPurchaseRequest } from './to-purchase-request';

/** The request's fields as the contract validates them (class-validator's metadata of PurchaseRequested). */
const contractFields = [
  ...new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(PurchaseRequested, '', true, false)
      .map((rule) => rule.propertyName),
  ),
].sort();

// Checked by the type-check: the request model has exactly the contract's fields but the deprecated one.
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const oneDefinition: SameKeys<keyof PurchaseRequest, Exclude<keyof PurchaseRequested, 'personId'>> = true;

describe('toPurchaseRequest', () => {
  it("carries every field of the contract's request but the deprecated personId, normalised", () => {
    expect(oneDefinition).toBe(true);
    // The documented example, with every optional field, the deprecated payer name and forms to normalise.
    const { payerId, ...example } = (EVENT_EXAMPLES['payments.purchase.requested'] as { data: Record<string, unknown> }).data;
    const input = plainToInstance(PurchaseRequested, {
      ...example,
      requestId: '6D0C3C1E-8A47-4F55-B2D4-7F8A9E0C1B23',
      personId: payerId,
      country: 'us',
      amount: { amount: '01000', currency: 'USD' },
      paymentMethodId: 'method-1',
      stepUpProof: 'proof',
      captureMethod: 'manual',
    });

    const request = toPurchaseRequest(input.requestId, input);

    expect(Object.keys(request).sort()).toEqual(contractFields.filter((field) => field !== 'personId'));
    expect(request).toMatchObject({
      requestId: '6d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
      payerId,
      country: 'US',
      amount: { amount: '1000', currency: 'USD' },
    });
  });
});
