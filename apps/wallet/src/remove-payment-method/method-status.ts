import { WalletError } from '../domain/wallet-error';
import type { PaymentMethodRow } from '../view-payment-methods/payment-method-view';

/** A removed method stays for history but can no longer be changed, preferred, or pay. */
export function assertActive(row: Pick<PaymentMethodRow, 'status'>): void {
  if (row.status !== 'active') {
    throw new WalletError('conflict', 'PAYMENT_METHOD_REMOVED', 'this payment method was removed and can no longer pay or be changed');
  }
}
