import { createHmac } from 'node:crypto';

/** Uniform numbers in the open interval (0, 1). */
export interface UniformSource {
  next(): number;
}

/**
 * The noise port: a Laplace draw of the given scale for a labelled value. Implementations are
 * injected; tests give a fixed seed, production a secret key.
 */
export interface NoiseSource {
  laplace(scale: number, label: string): number;
}

const TWO_POW_53 = 2 ** 53;

/**
 * A deterministic stream of uniforms from HMAC-SHA256(key, label ‖ counter): unpredictable without
 * the key, and the same for the same label. Keyed noise per published value means a replay or a
 * re-publication gives the same noisy value, so noise cannot be averaged away by asking again.
 */
export function keyedUniformStream(key: string, label: string): UniformSource {
  let counter = 0;
  let buffer = Buffer.alloc(0);
  let offset = 0;
  return {
    next(): number {
      if (offset + 7 > buffer.length) {
        buffer = createHmac('sha256', key).update(`${label}\u0000${counter}`, 'utf8').digest();
        counter += 1;
        offset = 0;
      }
      // 53 random bits, shifted by half a step so that neither 0 nor 1 can come out.
      const high = buffer.readUIntBE(offset, 3) & 0x1fffff;
      const low = buffer.readUInt32BE(offset + 3);
      offset += 7;
      return (high * 2 ** 32 + low + 0.5) / TWO_POW_53;
    },
  };
}

/** Inverse-CDF Laplace(0, scale): variance 2·scale², mean absolute deviation = scale. */
export function sampleLaplace(scale: number, uniform: UniformSource): number {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError('the Laplace scale must be a positive number');
  const centred = uniform.next() - 0.5;
  return -scale * Math.sign(centred) * Math.log(1 - 2 * Math.abs(centred));
}

/** Laplace noise keyed by a secret: the production noise source. */
export class KeyedLaplaceNoise implements NoiseSource {
  constructor(private readonly key: string) {
    if (key.length < 16) throw new RangeError('the noise key must have at least 16 characters');
  }

  laplace(scale: number, label: string): number {
    return sampleLaplace(scale, keyedUniformStream(this.key, label));
  }
}
