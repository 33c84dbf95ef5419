import { describe, expect, it } from 'vitest'
import { parseChannelSwap, parseMean, parseSize, parseSpatial, parseTuple, parseScalarOrTuple } from '../../src/cli/parse-values.ts'

describe('DVT flag values (Python literals, parsed as data)', () => {
  it('--push-spatial', () => {
    expect(parseSpatial('None')).toBeNull()
    expect(parseSpatial('(6,6)')).toEqual([6, 6])
    expect(parseSpatial(' ( 3 , 4 ) ')).toEqual([3, 4])
    expect(() => parseSpatial('(6)')).toThrow(/--push-spatial "\(6\)" is not valid/)
    expect(() => parseSpatial('(1.5,2)')).toThrow(/non-negative integers/)
  })
  it('--mean: None, per-channel tuple, or a quoted path', () => {
    expect(parseMean('None')).toBeNull()
    expect(parseMean('(104,117,123)')).toEqual([104, 117, 123])
    expect(parseMean("'mean.npy'")).toBe('mean.npy')
    expect(parseMean('/data/mean.npy')).toBe('/data/mean.npy')
  })
  it('--channel-swap-to-rgb maps to a channel order', () => {
    expect(parseChannelSwap('(2,1,0)')).toBe('BGR')
    expect(parseChannelSwap('(0,1,2)')).toBe('RGB')
    expect(() => parseChannelSwap('(1,0,2)')).toThrow(/"\(2,1,0\)" \(network trained on BGR\)/)
  })
  it('--data-size', () => {
    expect(parseSize('(227,227)')).toEqual([227, 227])
    expect(() => parseSize('(0,227)')).toThrow(/positive integers/)
  })
  it('tuples and scalars', () => {
    expect(parseTuple('--x', '[1, 2.5]')).toEqual([1, 2.5])
    expect(() => parseTuple('--x', '(a,b)')).toThrow(/--x "\(a,b\)" is not valid/)
    expect(parseScalarOrTuple('--input-scale', '0.5')).toBe(0.5)
    expect(parseScalarOrTuple('--input-scale', '(1,2,3)')).toEqual([1, 2, 3])
  })
})
