/**
 * Amount buckets: a purchase's amount (minor units, of whatever currency) falls into one of
 * `[0, b1)`, `[b1, b2)` … `[bn, ∞)`, labelled `0-999`, `1000-4999` … `50000+`. The amount
 * itself is never a dimension, so a rare exact amount cannot single anyone out.
 */
export class AmountBuckets {
  private constructor(readonly bounds: readonly bigint[]) {}

  /** Parses ascending positive boundaries in minor units, e.g. `1000,5000,10000,50000`. */
  static parse(spec: string): AmountBuckets {
    const parts = spec
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    if (parts.length === 0 || parts.length > 20) throw new RangeError('give 1 to 20 bucket boundaries in minor units, e.g. 1000,5000,10000');
    const bounds = parts.map((part) => {
      if (!/^[1-9][0-9]{0,17}$/.test(part)) throw new RangeError(`bucket boundary ${part} is not a positive whole number of minor units`);
      return BigInt(part);
    });
    for (let i = 1; i < bounds.length; i += 1) {
      if (bounds[i] <= bounds[i - 1]) throw new RangeError('bucket boundaries must be strictly ascending');
    }
    return new AmountBuckets(bounds);
  }

  bucketOf(amount: bigint): string {
    if (amount < 0n) throw new RangeError('an amount is never negative');
    let lower = 0n;
    for (const bound of this.bounds) {
      if (amount < bound) return `${lower}-${bound - 1n}`;
      lower = bound;
    }
    return `${lower}+`;
  }

  labels(): string[] {
    const labels: string[] = [];
    let lower = 0n;
    for (const bound of this.bounds) {
      labels.push(`${lower}-${bound - 1n}`);
      lower = bound;
    }
    labels.push(`${lower}+`);
    return labels;
  }
}
