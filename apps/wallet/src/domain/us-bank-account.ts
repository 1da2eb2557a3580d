import { WalletError } from './wallet-error';

/**
 * An ABA routing number: nine digits whose weighted sum (3, 7, 1 repeated) is a multiple of 10,
 * the check every US bank and Stripe's ACH apply before a debit is sent.
 */
export function isValidRoutingNumber(routingNumber: string): boolean {
  if (!/^\d{9}$/.test(routingNumber)) return false;
  const weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  const sum = [...routingNumber].reduce((total, digit, i) => total + Number(digit) * weights[i], 0);
  return sum % 10 === 0;
}

export function assertValidRoutingNumber(routingNumber: string): void {
  if (!isValidRoutingNumber(routingNumber)) {
    throw new WalletError('invalid', 'ROUTING_NUMBER_INVALID', 'the routing number is not valid: expected the nine digits of an ABA routing number', {
      field: 'routingNumber',
    });
  }
}
