import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { BiometricStepUpOptionsRequest, PinStepUpRequest } from './step-up.dto';

const problems = (cls: new () => object, body: unknown): string[] =>
  validateSync(plainToInstance<object, unknown>(cls, body)).flatMap((error) => [
    ...Object.values(error.constraints ?? {}),
    ...(error.children ?? []).flatMap((child) => Object.values(child.constraints ?? {})),
  ]);

describe('step-up request bodies', () => {
  it('refuse a body without its ceiling (a 400 naming it, not a failure further in)', () => {
    expect(problems(PinStepUpRequest, { pin: '730264' })).toContain('ceiling must be { amount, currency }');
    expect(problems(BiometricStepUpOptionsRequest, {})).toContain('ceiling must be { amount, currency }');
    expect(problems(PinStepUpRequest, { pin: '730264', ceiling: 'EUR 10' })).toContain('ceiling must be { amount, currency }');
  });

  it('take a well-formed ceiling', () => {
    expect(problems(PinStepUpRequest, { pin: '730264', ceiling: { amount: '12500', currency: 'EUR' } })).toEqual([]);
    expect(problems(BiometricStepUpOptionsRequest, { ceiling: { amount: '12500', currency: 'EUR' } })).toEqual([]);
  });
});
