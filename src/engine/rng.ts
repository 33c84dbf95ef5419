/**
 * Seeded random numbers, bit-compatible with numpy's legacy `np.random.seed(s)` / `RandomState`.
 *
 * DVT builds x0 with `np.random.seed(rand_seed)` then `np.random.normal(0, 10, shape)` (mean_plus_rand)
 * or `np.random.uniform(0, 255, shape)` (randu). Reproducing MT19937 and numpy's legacy polar
 * Box-Muller exactly means `--rand-seed 0` gives the very x0 DVT documents ([17.6405, 4.0016, ...]).
 * Shape: `new Rng(seed)` then `rng.normal()`, `rng.uniform()`, `rng.int(lo, hi)`; never Math.random.
 */

const N = 624
const M = 397
const MATRIX_A = 0x9908b0df
const UPPER_MASK = 0x80000000
const LOWER_MASK = 0x7fffffff

/** Name recorded with every result so a reader knows which generator produced x0. */
export const RNG_NAME = 'mt19937 (numpy legacy RandomState)'

export class Rng {
  readonly seed: number
  private readonly mt = new Uint32Array(N)
  private mti = N + 1
  private hasGauss = false
  private gauss = 0

  /** @param seed integer in 0 .. 2^32-1, as numpy's `np.random.seed` accepts. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`random seed must be an integer in 0..4294967295, got ${seed}`)
    }
    this.seed = seed
    this.mt[0] = seed >>> 0
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30)
      // 1812433253 * prev + i, in 32-bit arithmetic
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0
    }
    this.mti = N
  }

  /** Next raw 32-bit output of MT19937 (genrand_int32). */
  nextUint32(): number {
    const mt = this.mt
    if (this.mti >= N) {
      let kk = 0
      for (; kk < N - M; kk++) {
        const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK)
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK)
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)
      }
      const y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK)
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)
      this.mti = 0
    }
    let y = mt[this.mti++]
    y ^= y >>> 11
    y ^= (y << 7) & 0x9d2c5680
    y ^= (y << 15) & 0xefc60000
    y ^= y >>> 18
    return y >>> 0
  }

  /** Uniform double in [0, 1) with 53 random bits (numpy's random_sample). */
  random(): number {
    const a = this.nextUint32() >>> 5
    const b = this.nextUint32() >>> 6
    return (a * 67108864 + b) / 9007199254740992
  }

  /** Uniform in [low, high), as `np.random.uniform(low, high)`. */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random()
  }

  /** Standard normal by numpy's legacy polar method (pairs cached as numpy does). */
  standardNormal(): number {
    if (this.hasGauss) {
      this.hasGauss = false
      return this.gauss
    }
    let x1: number
    let x2: number
    let r2: number
    do {
      x1 = 2 * this.random() - 1
      x2 = 2 * this.random() - 1
      r2 = x1 * x1 + x2 * x2
    } while (r2 >= 1 || r2 === 0)
    const f = Math.sqrt((-2 * Math.log(r2)) / r2)
    this.gauss = f * x1
    this.hasGauss = true
    return f * x2
  }

  /** Normal with mean `loc` and standard deviation `scale`, as `np.random.normal(loc, scale)`. */
  normal(loc = 0, scale = 1): number {
    return loc + scale * this.standardNormal()
  }

  /** Integer uniform in [lo, hi) (not numpy-compatible; for our own sampling only). */
  int(lo: number, hi: number): number {
    if (!(hi > lo)) throw new RangeError(`empty integer range [${lo}, ${hi})`)
    return lo + Math.floor(this.random() * (hi - lo))
  }

  /** Fill a new Float32Array with `count` draws of `draw` (keeps numpy's C-order sequence). */
  fill(count: number, draw: (rng: Rng) => number): Float32Array {
    const out = new Float32Array(count)
    for (let i = 0; i < count; i++) out[i] = draw(this)
    return out
  }
}
