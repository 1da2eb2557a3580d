import { keyedUniformStream, KeyedLaplaceNoise, sampleLaplace } from './laplace';
import { noiseScales } from '../privacy-policy';
import { policy } from '../__fixtures__/purchases';

describe('Laplace noise', () => {
  it('has the configured scale: 20,000 draws with a fixed seed have variance 2(Δ/ε)² and mean |x| = Δ/ε', () => {
    const sensitivity = 3;
    const epsilon = 0.5;
    const scale = sensitivity / epsilon;
    const uniform = keyedUniformStream('fixed-seed-for-the-statistical-test', 'draws');
    const n = 20_000;
    const draws = Array.from({ length: n }, () => sampleLaplace(scale, uniform));
    const mean = draws.reduce((a, b) => a + b, 0) / n;
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    const meanAbsolute = draws.reduce((a, b) => a + Math.abs(b), 0) / n;
    // Standard errors: mean √2·b/√n ≈ 0.06; variance ≈ 2b²·√(5/n) ≈ 1.6 %; 3 standard errors allowed.
    expect(Math.abs(mean)).toBeLessThan((3 * Math.SQRT2 * scale) / Math.sqrt(n));
    expect(Math.abs(variance / (2 * scale ** 2) - 1)).toBeLessThan(0.05);
    expect(Math.abs(meanAbsolute / scale - 1)).toBeLessThan(0.03);
    // And its shape: the largest gap between the empirical and the Laplace CDF (Kolmogorov–Smirnov, 1 %).
    const sorted = [...draws].sort((a, b) => a - b);
    const cdf = (x: number): number => (x < 0 ? 0.5 * Math.exp(x / scale) : 1 - 0.5 * Math.exp(-x / scale));
    const ks = Math.max(...sorted.map((x, i) => Math.max(Math.abs(cdf(x) - i / n), Math.abs(cdf(x) - (i + 1) / n))));
    expect(ks).toBeLessThan(1.63 / Math.sqrt(n));
  });

  it('gives uniforms strictly inside (0, 1)', () => {
    const uniform = keyedUniformStream('k', 'bounds');
    for (let i = 0; i < 10_000; i += 1) {
      const u = uniform.next();
      expect(u > 0 && u < 1).toBe(true);
    }
  });

  it('is the same for the same key and label (a replay re-publishes the same noise) and differs otherwise', () => {
    const a = new KeyedLaplaceNoise('a-noise-key-of-16+chars');
    const b = new KeyedLaplaceNoise('another-noise-key-16+');
    expect(a.laplace(2, 'cell-1|purchases')).toBe(a.laplace(2, 'cell-1|purchases'));
    expect(a.laplace(2, 'cell-1|purchases')).not.toBe(a.laplace(2, 'cell-2|purchases'));
    expect(a.laplace(2, 'cell-1|purchases')).not.toBe(b.laplace(2, 'cell-1|purchases'));
    expect(() => new KeyedLaplaceNoise('short')).toThrow(/at least 16/);
  });

  it('splits ε of a window over every published measure of every grouping', () => {
    // 6 groupings × 3 measures = 18 releases; m = 3 purchases per person.
    const scales = noiseScales(policy({ differentialPrivacy: { epsilonPerWindow: 1.8, maxAmountMinor: 10_000n } }));
    expect(scales?.epsilonPerRelease).toBeCloseTo(0.1, 12);
    expect(scales?.purchases).toBeCloseTo(30, 9);
    expect(scales?.distinctPeople).toBeCloseTo(30, 9);
    expect(scales?.amounts).toBeCloseTo(300_000, 6);
    expect(noiseScales(policy())).toBeUndefined();
  });
});
