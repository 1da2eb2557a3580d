/**
 * The wallet's Stripe adapter for bank accounts against the PSP simulator (Stripe's official SDK
 * over HTTP), for the refusals the wallet's own validation keeps its routes from reaching: Stripe's
 * `email_invalid` on a SEPA holder's e-mail becomes BankAccountRefused naming `holderEmail` (the
 * hub shows it on that field); the same IBAN with a good address is saved.
 */
import { randomUUID } from 'node:crypto';
import type { PspSimulator } from '@pay/psp-simulator';
import { startPspSimulator } from '@pay/psp-simulator';
import { BankAccountRefused } from '../ports/bank-account-verifier';
import { StripeBankAccountVerifier } from './stripe-bank-account-verifier';

let psp: PspSimulator;
let verifier: StripeBankAccountVerifier;

beforeAll(async () => {
  psp = await startPspSimulator();
  verifier = new StripeBankAccountVerifier({ secretKey: 'sk_test_wallet_adapter', host: psp.host, port: psp.port, protocol: 'http' });
});

afterAll(async () => {
  await psp?.close();
});

const request = (holderEmail: string) => ({
  methodId: randomUUID(),
  personId: `person-${randomUUID()}`,
  iban: 'DE89370400440532013000',
  holderName: 'Ana Example',
  holderEmail,
  mandate: { acceptedAt: new Date(), ipAddress: '203.0.113.7', userAgent: 'Mozilla/5.0 (adapter test)' },
});

describe('StripeBankAccountVerifier (SEPA) against the simulator', () => {
  it("refuses a holder's e-mail the PSP refuses (email_invalid) as BankAccountRefused on holderEmail", async () => {
    for (const holderEmail of ['ana@localhost', 'ana example@example.com']) {
      const refused = await verifier.saveIban(request(holderEmail)).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(BankAccountRefused);
      expect(refused).toMatchObject({ field: 'holderEmail' });
      // The message names the field, never the address.
      expect((refused as Error).message).not.toContain(holderEmail);
    }
  });

  it('saves the IBAN with a well-formed address: a PaymentMethod on its own customer under a mandate', async () => {
    const saved = await verifier.saveIban(request('ana@example.com'));
    expect(saved).toMatchObject({
      setupId: expect.stringMatching(/^seti_/),
      paymentMethodId: expect.stringMatching(/^pm_/),
      customerId: expect.stringMatching(/^cus_/),
      mandateId: expect.stringMatching(/^mandate_/),
    });
  });
});
