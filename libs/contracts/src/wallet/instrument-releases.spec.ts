import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { flattenValidationErrors } from '../envelope/event-registry';
import { InstrumentReleasesRequest, MAX_INSTRUMENT_RELEASES, readInstrumentReleases } from './instrument-releases';

const methodId = '3f1c2a9e-6a4b-4c1e-9f51-2b7d8e0a1c44';
const ask = { paymentId: 'pay_1', personId: 'person-1', methodId, app: 'facebook' };

const problems = (body: unknown): string[] =>
  flattenValidationErrors(validateSync(plainToInstance(InstrumentReleasesRequest, body), { whitelist: true, forbidNonWhitelisted: true }));

describe('the InstrumentReleasesRequest contract (orchestration -> wallet)', () => {
  it('takes 1 to 64 asks of a payment, its payer, the method and the app', () => {
    expect(problems({ releases: [ask] })).toEqual([]);
    expect(problems({ releases: Array.from({ length: MAX_INSTRUMENT_RELEASES }, () => ask) })).toEqual([]);
  });

  it('names what is wrong: no list, too few or many, a bad id, method or app, an unknown field', () => {
    expect(problems({}).join()).toMatch(/releases must be a list/);
    expect(problems({ releases: [] }).join()).toMatch(/at least one/);
    expect(problems({ releases: Array.from({ length: 65 }, () => ask) }).join()).toMatch(/at most 64/);
    expect(problems({ releases: [{ ...ask, methodId: 'x' }] }).join()).toMatch(/methodId must be a UUID/);
    expect(problems({ releases: [{ ...ask, personId: 'a b' }] }).join()).toMatch(/personId must be/);
    expect(problems({ releases: [{ ...ask, paymentId: '' }] }).join()).toMatch(/paymentId must be/);
    expect(problems({ releases: [{ ...ask, app: 'myspace' }] }).join()).toMatch(/app must be one of/);
    expect(problems({ releases: [{ ...ask, extra: 1 }] }).join()).toMatch(/extra/);
  });
});

describe('readInstrumentReleases (the wallet -> orchestration answer)', () => {
  const instrument = { methodId, kind: 'card', credentials: { pspToken: 'pm_card_visa' } };

  it('reads one item per ask in their order, leaving each instrument to readPaymentInstrument', () => {
    expect(
      readInstrumentReleases(
        {
          releases: [
            { paymentId: 'a', status: 200, instrument },
            { paymentId: 'b', status: 404, code: 'PAYMENT_NOT_FOUND', message: 'm' },
            { paymentId: 'c', status: 409, code: 'not a code' },
          ],
        },
        ['a', 'b', 'c'],
      ),
    ).toEqual([{ status: 200, instrument }, { status: 404, code: 'PAYMENT_NOT_FOUND' }, { status: 409 }]);
  });

  it('throws for an answer that cannot be matched to the asks', () => {
    expect(() => readInstrumentReleases([], ['a'])).toThrow(/\{releases: \[\.\.\.\]\}/);
    expect(() => readInstrumentReleases({ releases: [] }, ['a'])).toThrow(/1 releases were asked for, 0 answered/);
    expect(() => readInstrumentReleases({ releases: [{ paymentId: 'b', status: 200 }] }, ['a'])).toThrow(/another payment/);
    expect(() => readInstrumentReleases({ releases: [null] }, ['a'])).toThrow(/not an object/);
    expect(() => readInstrumentReleases({ releases: [{ paymentId: 'a', status: '200' }] }, ['a'])).toThrow(/HTTP status/);
  });
});
