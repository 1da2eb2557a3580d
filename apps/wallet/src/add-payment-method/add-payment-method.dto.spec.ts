import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AddBankAccountRequest, AddUsBankAccountRequest } from './add-payment-method.dto';

const SEPA = { iban: 'DE89370400440532013000' };
const ACH = { routingNumber: '110000000', accountNumber: '000123456789', accountType: 'checking' };
const NOT_A_NAME = 'holderName must be a name: letters, spaces, apostrophes, dots, commas and hyphens';

const holderNameProblems = (cls: new () => object, body: object): string[] =>
  validateSync(plainToInstance(cls, body))
    .filter((error) => error.property === 'holderName')
    .flatMap((error) => Object.values(error.constraints ?? {}));

const ACCOUNTS: Array<[string, new () => { holderName: string }, object]> = [
  ['a SEPA account', AddBankAccountRequest, SEPA],
  ['a US account', AddUsBankAccountRequest, ACH],
];

describe.each(ACCOUNTS)("the holder's name of %s", (_name, cls, account) => {
  it('is taken trimmed: letters of any script, spaces, apostrophes, dots, commas and hyphens', () => {
    const request = plainToInstance(cls, { ...account, holderName: "  Zoë O'Neil-Þórsdóttir, Jr.  " });
    expect(request.holderName).toBe("Zoë O'Neil-Þórsdóttir, Jr.");
    expect(holderNameProblems(cls, { ...account, holderName: 'Ana Maria Silva' })).toEqual([]);
  });

  it('is refused with the reason when it is not a name, empty, longer than 70 characters or not text', () => {
    expect(holderNameProblems(cls, { ...account, holderName: 'Ana <script>' })).toEqual([NOT_A_NAME]);
    expect(holderNameProblems(cls, { ...account, holderName: '4242 4242 4242 4242' })).toEqual([NOT_A_NAME]);
    expect(holderNameProblems(cls, { ...account, holderName: '   ' })).toEqual(
      expect.arrayContaining(['holderName must be longer than or equal to 1 characters']),
    );
    expect(holderNameProblems(cls, { ...account, holderName: 'A'.repeat(71) })).toEqual(['holderName must be shorter than or equal to 70 characters']);
    expect(holderNameProblems(cls, { ...account, holderName: 42 })).toEqual(expect.arrayContaining(['holderName must be a string']));
    expect(holderNameProblems(cls, account)).toEqual(expect.arrayContaining(['holderName must be a string']));
  });
});

describe("the SEPA holder's e-mail address", () => {
  const problems = (body: object): string[] =>
    validateSync(plainToInstance(AddBankAccountRequest, { ...SEPA, holderName: 'Ana Maria Silva', ...body }))
      .filter((error) => error.property === 'holderEmail')
      .flatMap((error) => Object.values(error.constraints ?? {}));

  it('is required, taken trimmed', () => {
    expect(plainToInstance(AddBankAccountRequest, { ...SEPA, holderEmail: '  ana@example.org ' }).holderEmail).toBe('ana@example.org');
    expect(problems({ holderEmail: 'ana@example.org' })).toEqual([]);
    expect(problems({})).toContain('holderEmail must be an e-mail address');
  });

  it('is refused with the reason, never echoed, when it is not an e-mail address or longer than 254 characters', () => {
    for (const holderEmail of ['ana.example.org', 'ana@', 'ana @example.org', 42])
      expect(problems({ holderEmail })).toContain('holderEmail must be an e-mail address');
    expect(problems({ holderEmail: `${'a'.repeat(250)}@x.org` })).toContain('holderEmail must be 3 to 254 characters');
  });
});
