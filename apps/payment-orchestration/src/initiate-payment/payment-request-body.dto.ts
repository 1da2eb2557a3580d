import type { ApiPropertyOptions } from '@nestjs/swagger';
import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { APPS, PAYMENT_KINDS, PurchaseRequested } from '@pay/contracts';

/**
 * `POST /v1/payments`: the Kafka door's PurchaseRequested without `requestId` (the
 * `Idempotency-Key` header is the request id). Derived from the contract class, so both doors
 * validate one shape; only the OpenAPI descriptions are added here.
 */
export class PaymentRequestBody extends OmitType(PurchaseRequested, ['requestId'] as const) {}

const REQUIRED: Partial<Record<keyof PaymentRequestBody, ApiPropertyOptions>> = {
  kind: {
    enum: PAYMENT_KINDS,
    description: 'purchase (to a merchant), donation (to a registered non-profit), transfer (to a person, from the wallet balance)',
  },
  payerId: { example: 'person-42', description: 'The paying person.' },
  counterparty: { example: { type: 'merchant', id: 'merchant-7' }, description: 'merchant, non-profit or person, and its id.' },
  app: { enum: APPS },
  country: { example: 'US', description: 'Where the person is (ISO 3166-1 alpha-2): the rollout is per country.' },
  amount: { example: { amount: '1250', currency: 'USD' }, description: 'Minor units as a string, ISO-4217 currency.' },
};

const OPTIONAL: Partial<Record<keyof PaymentRequestBody, ApiPropertyOptions>> = {
  personId: { deprecated: true, description: 'Former name of payerId, read as payerId when that is absent; send payerId.' },
  paymentMethodId: { format: 'uuid', description: 'A saved method of the person; the preferred one when absent. Not for transfers.' },
  stepUpProof: { description: "The wallet's step-up proof (PIN or biometric), needed above the configured amount." },
  merchantCategory: { example: '5812', description: 'ISO 18245 merchant category code.' },
  description: { maxLength: 200 },
  captureMethod: {
    enum: ['automatic', 'manual'],
    description:
      'automatic (default): captured at once. manual: only authorised; capture with POST /v1/payments/{id}/capture or release with /void. Cards and PayPal accounts; not transfers nor bank debits.',
  },
};

for (const [name, options] of Object.entries(REQUIRED)) ApiProperty(options)(PaymentRequestBody.prototype, name);
for (const [name, options] of Object.entries(OPTIONAL)) ApiPropertyOptional(options)(PaymentRequestBody.prototype, name);
