import type { Money } from '@pay/contracts';
import { toMinorUnits } from '@pay/contracts';

/**
 * When a payment needs a step-up proof: above a configured amount per currency
 * (`STEP_UP_THRESHOLDS=EUR:5000,USD:5000`, minor units). A currency without a threshold always
 * needs one: an unconfigured currency must not become a way around the PIN.
 */
export type StepUpThresholds = ReadonlyMap<string, bigint>;

const ENTRY = /^([A-Z]{3}):(0|[1-9][0-9]{0,17})$/;

export function parseStepUpThresholds(text: string): StepUpThresholds {
  const thresholds = new Map<string, bigint>();
  for (const part of text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const match = ENTRY.exec(part);
    if (!match) throw new Error(`step-up threshold "${part}" is not CURRENCY:minor-units, e.g. EUR:5000`);
    if (thresholds.has(match[1])) throw new Error(`step-up threshold for ${match[1]} is given twice`);
    thresholds.set(match[1], BigInt(match[2]));
  }
  return thresholds;
}

export function stepUpRequired(amount: Money, thresholds: StepUpThresholds): boolean {
  const threshold = thresholds.get(amount.currency);
  return threshold === undefined || toMinorUnits(amount) > threshold;
}
