import type { PurchaseRequested } from '@pay/contracts';
import { money, toMinorUnits } from '@pay/contracts';
import type { PurchaseRequest } from '../check-purchase/purchase-request';
import type { PaymentRequestBody } from './payment-request-body.dto';

/** Either door's input as the one request model (contract classes validated it already). */
export function toPurchaseRequest(requestId: string, input: PurchaseRequested | PaymentRequestBody): PurchaseRequest {
  return {
    requestId: requestId.toLowerCase(),
    kind: input.kind,
    payerId: input.payerId,
    counterparty: { type: input.counterparty.type, id: input.counterparty.id },
    app: input.app,
    country: input.country.toUpperCase(),
    // A fresh Money in canonical form: the request hash and the events see exactly these fields.
    amount: money(toMinorUnits(input.amount), input.amount.currency),
    ...(input.paymentMethodId === undefined ? {} : { paymentMethodId: input.paymentMethodId }),
    ...(input.stepUpProof === undefined ? {} : { stepUpProof: input.stepUpProof }),
    ...(input.merchantCategory === undefined ? {} : { merchantCategory: input.merchantCategory }),
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.captureMethod === undefined ? {} : { captureMethod: input.captureMethod }),
  };
}
