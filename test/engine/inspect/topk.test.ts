/**
 * TopK: keeps the k best per unit, best first; ties keep the earlier image; the result does not depend
 * on how the stream is cut into batches; JSON round trip.
 */
import { describe, expect, it } from 'vitest'
import { TopK } from '../../../src/engine/inspect/topk.ts'
import { Rng } from '../../../src/engine/rng.ts'

describe('TopK', () => {
  it('keeps the k largest scores per unit, best first, with positions; NaN is ignored', () => {
    const t = new TopK(2, 3)
    const scores = [[1, 9], [5, 8], [3, NaN], [7, 1], [2, 10]]
    scores.forEach((s, i) => t.add(i, s, [i, 10 + i, i, 20 + i]))
    expect(t.entries(0).map((e) => [e.image, e.score, e.y, e.x])).toEqual([[3, 7, 3, 13], [1, 5, 1, 11], [2, 3, 2, 12]])
    expect(t.entries(1).map((e) => e.image)).toEqual([4, 0, 1])
    expect(() => t.entries(2)).toThrow(/out of range/)
  })

  it('ties keep the earlier image, so any batching of the same ordered stream gives the same result', () => {
    const rng = new Rng(11)
    // Few distinct values: many ties.
    const stream = Array.from({ length: 200 }, () => Array.from({ length: 6 }, () => rng.int(0, 5)))
    const whole = new TopK(6, 9)
    stream.forEach((s, i) => whole.add(i, s))
    const resumed = new TopK(6, 9)
    stream.slice(0, 77).forEach((s, i) => resumed.add(i, s))
    const again = TopK.fromJSON(JSON.parse(JSON.stringify(resumed.toJSON())))
    stream.slice(77).forEach((s, i) => again.add(77 + i, s))
    expect(again.toJSON()).toEqual(whole.toJSON())
    // Brute force: sort by (score desc, image asc).
    for (let u = 0; u < 6; u++) {
      const want = stream.map((s, i) => ({ i, v: s[u] })).sort((a, b) => b.v - a.v || a.i - b.i).slice(0, 9).map((e) => e.i)
      expect(whole.entries(u).map((e) => e.image)).toEqual(want)
    }
  })
})
