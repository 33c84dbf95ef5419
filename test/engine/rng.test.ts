import { describe, expect, it } from 'vitest'
import { Rng } from '../../src/engine/rng.ts'

describe('Rng (numpy legacy RandomState compatible)', () => {
  it('np.random.seed(0); np.random.normal(0, 10, 5) gives the x0 DVT documents', () => {
    const r = new Rng(0)
    const got = Array.from({ length: 5 }, () => r.normal(0, 10))
    // DVT doc: x0 starts [17.6405234597, 4.00157208367, ...]; numpy: 9.78737984, 22.40893199, 18.6755799
    expect(got[0]).toBeCloseTo(17.6405234597, 9)
    expect(got[1]).toBeCloseTo(4.00157208367, 9)
    expect(got[2]).toBeCloseTo(9.78737984, 7)
    expect(got[3]).toBeCloseTo(22.40893199, 7)
    expect(got[4]).toBeCloseTo(18.6755799, 6)
  })
  it('np.random.seed(42); np.random.uniform(0, 255, 3)', () => {
    const r = new Rng(42)
    expect(r.uniform(0, 255)).toBeCloseTo(95.50773030607743, 10)
    expect(r.uniform(0, 255)).toBeCloseTo(242.43214813452863, 10)
    expect(r.uniform(0, 255)).toBeCloseTo(186.6584551619083, 10)
  })
  it('same seed, same sequence; different seed, different sequence', () => {
    const a = new Rng(7).fill(10, (r) => r.random())
    const b = new Rng(7).fill(10, (r) => r.random())
    const c = new Rng(8).fill(10, (r) => r.random())
    expect(Array.from(a)).toEqual(Array.from(b))
    expect(Array.from(a)).not.toEqual(Array.from(c))
  })
  it('rejects seeds numpy rejects', () => {
    expect(() => new Rng(-1)).toThrow(/seed/)
    expect(() => new Rng(2 ** 32)).toThrow(/seed/)
    expect(() => new Rng(1.5)).toThrow(/seed/)
  })
})
