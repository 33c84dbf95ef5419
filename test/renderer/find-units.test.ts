/**
 * findUnits: by index ("130", "#130") and by class label, ranked (an exact name first, then names
 * or words starting with the query, then substrings), on the real ImageNet labels when present.
 */
import { describe, expect, it } from 'vitest'
import { findUnits } from '../../src/renderer/src/units/find-units'

/** ImageNet classes 127-131 and 280-286 (imagenet_labels.txt); the rest padded. */
function imagenetExcerpt(): string[] {
  const labels = Array.from({ length: 1000 }, (_, i) => `class ${i}`)
  ;['white stork, Ciconia ciconia', 'black stork, Ciconia nigra', 'spoonbill', 'flamingo', 'little blue heron, Egretta caerulea'].forEach((l, i) => (labels[127 + i] = l))
  ;['Arctic fox, white fox, Alopex lagopus', 'grey fox, gray fox, Urocyon cinereoargenteus', 'tabby, tabby cat', 'tiger cat', 'Persian cat', 'Siamese cat, Siamese', 'Egyptian cat'].forEach((l, i) => (labels[279 + i] = l))
  return labels
}

describe('findUnits', () => {
  const labels = ['grating vertical', 'concentric rings', 'red blob', 'ring binder']
  it('finds by index, with or without #, in range only', () => {
    expect(findUnits('2', labels, 4)).toEqual([{ index: 2, label: 'red blob' }])
    expect(findUnits('#0', [], 64)).toEqual([{ index: 0, label: null }])
    expect(findUnits('64', [], 64)).toEqual([])
    expect(findUnits('  ', labels, 4)).toEqual([])
  })
  it('ranks names and word starts before substrings', () => {
    expect(findUnits('ring', labels, 4).map((m) => m.index)).toEqual([1, 3])
    expect(findUnits('ring binder', labels, 4).map((m) => m.index)).toEqual([3])
    expect(findUnits('ing', labels, 4).map((m) => m.index)).toEqual([0, 1, 3])
    expect(findUnits('RINGS', labels, 4).map((m) => m.index)).toEqual([1])
    expect(findUnits('ed', labels, 4).map((m) => m.index)).toEqual([2])
  })
  it('finds flamingo (130) and tabby cat (281) among ImageNet-style labels', () => {
    const imagenet = imagenetExcerpt()
    expect(findUnits('flamingo', imagenet, 1000)[0]).toEqual({ index: 130, label: 'flamingo' })
    expect(findUnits('tabby', imagenet, 1000)[0].index).toBe(281)
    expect(findUnits('cat', imagenet, 1000).map((m) => m.index)).toEqual([281, 282, 283, 284, 285])
  })
})
