import { InvalidRequestError, SaveBankAccountRequest, SaveBankMandateRequest, SaveUsBankAccountRequest, validated } from './requests';

/** The problems `validated` names for this body, or [] when it passes. */
function problems(type: new () => object, body: object): string[] {
  try {
    validated(type, body);
    return [];
  } catch (error) {
    if (error instanceof InvalidRequestError) return error.details;
    throw error;
  }
}

const mandate = { holderName: 'Ana Example', mandateTextVersion: 'pay-hub-sepa-2026-01', mandateAccepted: true };

// Each bank account body with a valid value of every field it adds to the mandate's.
const bodies: [string, new () => object, object][] = [
  ['an IBAN (SEPA)', SaveBankAccountRequest, { ...mandate, iban: 'DE89 3704 0044 0532 0130 00', holderEmail: 'ana@example.org', bic: 'COBADEFFXXX' }],
  ['a US account (ACH)', SaveUsBankAccountRequest, { ...mandate, routingNumber: '110000000', accountNumber: '000123456789', accountType: 'checking' }],
  ['a linked US account', SaveBankMandateRequest, mandate],
];

describe.each(bodies)('saving %s from the methods page', (_what, type, body) => {
  it('accepts a complete body, with or without a label', () => {
    expect(problems(type, body)).toEqual([]);
    expect(problems(type, { ...body, label: 'Salary' })).toEqual([]);
  });

  it("refuses a bad holder, mandate text or acceptance: the mandate's checks hold in every subclass", () => {
    expect(problems(type, { ...body, holderName: '' })).toEqual(['holderName must be the account holder, 1 to 70 characters']);
    expect(problems(type, { ...body, holderName: 'x'.repeat(71) })).toEqual(['holderName must be the account holder, 1 to 70 characters']);
    expect(problems(type, { ...body, mandateTextVersion: '' })).toHaveLength(1);
    expect(problems(type, { ...body, mandateAccepted: false })).toEqual([
      'mandateAccepted must be true: a bank account is debited only under a mandate its holder accepted',
    ]);
    const { mandateAccepted: _accepted, ...unaccepted } = body as typeof mandate;
    expect(problems(type, unaccepted)).toHaveLength(1);
  });

  it("refuses a bad label (the saved method's check) and an unknown field", () => {
    expect(problems(type, { ...body, label: '' })).toEqual(['label must be 1 to 40 characters']);
    expect(problems(type, { ...body, cardNumber: '4242424242424242' })).toHaveLength(1);
  });
});

describe("each bank account's own fields", () => {
  it('an IBAN: the IBAN and the BIC', () => {
    expect(problems(SaveBankAccountRequest, { ...bodies[0][2], iban: 'DE89' })).toEqual(['iban must be an IBAN, 15 to 42 characters with spaces']);
    expect(problems(SaveBankAccountRequest, { ...bodies[0][2], bic: 'COBA' })).toEqual(['bic must be a BIC (8 or 11 characters)']);
    expect(problems(SaveBankAccountRequest, mandate)).toContain('iban must be an IBAN, 15 to 42 characters with spaces');
  });

  it("an IBAN: its holder's e-mail address, which SEPA requires, without echoing it", () => {
    const body = bodies[0][2];
    const refusal = ["holderEmail must be the account holder's e-mail address"];
    for (const holderEmail of [undefined, '', 'ana.example.org', 'ana @example.org', 'ana@', `${'a'.repeat(250)}@x.org`, 42])
      expect(problems(SaveBankAccountRequest, { ...body, holderEmail })).toEqual(refusal);
  });

  it('a US account: routing number, account number and type', () => {
    const body = bodies[1][2];
    expect(problems(SaveUsBankAccountRequest, { ...body, routingNumber: '11000000' })).toEqual(['routingNumber must be the 9-digit ABA routing number']);
    expect(problems(SaveUsBankAccountRequest, { ...body, accountNumber: '12a4' })).toEqual(['accountNumber must be 4 to 17 digits']);
    expect(problems(SaveUsBankAccountRequest, { ...body, accountType: 'business' })).toEqual(['accountType must be checking or savings']);
    expect(problems(SaveUsBankAccountRequest, mandate)).toEqual(
      expect.arrayContaining([
        'routingNumber must be the 9-digit ABA routing number',
        'accountNumber must be 4 to 17 digits',
        'accountType must be checking or savings',
      ]),
    );
  });

  it('a linked account takes no numbers: they are refused as unknown', () => {
    expect(problems(SaveBankMandateRequest, { ...mandate, iban: 'DE89 3704 0044 0532 0130 00' })).toHaveLength(1);
    expect(problems(SaveBankMandateRequest, { ...mandate, routingNumber: '110000000' })).toHaveLength(1);
  });
});
